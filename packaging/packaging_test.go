// Package packaging_test checks that the systemd unit, the Dockerfile and
// their configuration files agree with the agent they start: the commands
// they run are valid, the configurations pass -check-config, the unit
// verifies, the notifications Type=notify relies on arrive, and the image's
// health check passes against a running agent.
package packaging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// The paths the packages install to, as the unit and the Dockerfile name
// them.
const (
	installedBinary = "/usr/bin/collectkit-agent"
	installedConfig = "/etc/collectkit/agent.toml"
	installedConfD  = "/etc/collectkit/conf.d"
	stateDir        = "/var/lib/collectkit"
)

var agentBuild = testkit.GoBuild{Pkg: "../examples/agent", Name: "collectkit-agent"}

// agentBinary builds the example agent once per test binary run.
func agentBinary(t *testing.T) string {
	t.Helper()
	return agentBuild.Path(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	agentBuild.Remove()
	os.Exit(code)
}

// unitFile is a systemd unit's assignments, by key, in order.
type unitFile map[string][]string

func readUnit(t *testing.T, path string) unitFile {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	u := unitFile{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: line %q is not key=value", path, line)
		u[k] = append(u[k], v)
	}
	require.NoError(t, sc.Err())
	return u
}

// one returns the single value of key.
func (u unitFile) one(t *testing.T, key string) string {
	t.Helper()
	require.Len(t, u[key], 1, "%s set %d times", key, len(u[key]))
	return u[key][0]
}

// localConfig writes the configuration at path to dir with the state
// directory moved into dir, so that a test run writes nothing outside it.
func localConfig(t *testing.T, path, dir string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	local := filepath.Join(dir, filepath.Base(path))
	text := strings.ReplaceAll(string(data), stateDir, filepath.Join(dir, "state"))
	require.NoError(t, os.WriteFile(local, []byte(text), 0o644))
	return local
}

// localArgs maps the installed paths of an agent command line to the
// built binary, the configuration file cfg and an empty conf.d.
func localArgs(t *testing.T, argv []string, cfg string) []string {
	t.Helper()
	confD := t.TempDir()
	out := make([]string, len(argv))
	for i, a := range argv {
		switch a {
		case installedBinary:
			a = agentBinary(t)
		case installedConfig:
			a = cfg
		case installedConfD:
			a = confD
		}
		out[i] = a
	}
	require.Equal(t, agentBinary(t), out[0], "the command does not start %s: %q", installedBinary, argv)
	return out
}

func serviceArgs(t *testing.T, dir string) []string {
	t.Helper()
	u := readUnit(t, "collectkit-agent.service")
	return localArgs(t, strings.Fields(u.one(t, "ExecStart")), localConfig(t, "agent.toml", dir))
}

// dockerfile is what the tests read of the Dockerfile.
type dockerfile struct {
	entrypoint, cmd, healthcheck []string
	copies                       [][]string // COPY sources from the build context
	volumes                      []string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	// Join continuation lines; drop comments.
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s)
			continue
		}
		cur.WriteString(l)
		lines = append(lines, strings.TrimSpace(cur.String()))
		cur.Reset()
	}
	var d dockerfile
	jsonArgs := func(s string) []string {
		var v []string
		require.NoError(t, json.Unmarshal([]byte(s), &v), "not a JSON array: %s", s)
		return v
	}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		switch instr {
		case "ENTRYPOINT":
			d.entrypoint = jsonArgs(rest)
		case "CMD":
			d.cmd = jsonArgs(rest)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(rest, "CMD ")
			require.True(t, ok, "HEALTHCHECK without CMD: %s", l)
			d.healthcheck = jsonArgs(c)
		case "VOLUME":
			d.volumes = append(d.volumes, jsonArgs(rest)...)
		case "COPY":
			f := strings.Fields(rest)
			if strings.HasPrefix(f[0], "--from=") {
				continue
			}
			d.copies = append(d.copies, f[:len(f)-1])
		}
	}
	return d
}

// containerArgs is the image's command line run here: tini dropped, the
// installed paths mapped.
func containerArgs(t *testing.T, d dockerfile, dir string) []string {
	t.Helper()
	argv := append(append([]string{}, d.entrypoint...), d.cmd...)
	require.Equal(t, []string{"/usr/bin/tini", "--"}, argv[:2], "the entrypoint runs the agent under tini")
	return localArgs(t, argv[2:], localConfig(t, "container.toml", dir))
}

func checkConfig(t *testing.T, argv []string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(argv[0], append(argv[1:], "-check-config")...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestServiceConfiguration(t *testing.T) {
	dir := t.TempDir()
	out, err := checkConfig(t, serviceArgs(t, dir))
	require.NoError(t, err, "ExecStart with agent.toml fails -check-config:\n%s", out)
	assert.Contains(t, out, "configuration OK")

	// The forward buffer is in the state directory the unit creates and
	// may write to.
	u := readUnit(t, "collectkit-agent.service")
	state := "/var/lib/" + u.one(t, "StateDirectory")
	assert.Equal(t, stateDir, state)
	assert.Contains(t, u["ReadWritePaths"], state)
	data, err := os.ReadFile("agent.toml")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^buffer_dir = "`+regexp.QuoteMeta(state)+`/`, string(data))
}

func TestContainerConfiguration(t *testing.T) {
	d := readDockerfile(t)
	argv := containerArgs(t, d, t.TempDir())

	out, err := checkConfig(t, argv, "COLLECTKIT_TOKEN=s3cret")
	require.NoError(t, err, "the image's command fails -check-config:\n%s", out)
	assert.Contains(t, out, "listen 0.0.0.0:9529")

	out, err = checkConfig(t, argv, "COLLECTKIT_TOKEN=s3cret", "COLLECTKIT_SINK=influx", "COLLECTKIT_SINK_URL=http://127.0.0.1:8428/write")
	require.NoError(t, err, "the image's command fails -check-config with a forwarder:\n%s", out)
	assert.Contains(t, out, "sink influx")

	// Without a token the container does not start, and says why.
	cmd := exec.Command(argv[0], append(argv[1:], "-check-config")...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COLLECTKIT_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	b, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(b), "COLLECTKIT_TOKEN")

	// What the image copies from the build context exists, and the
	// forward buffer is on its volume.
	for _, srcs := range d.copies {
		for _, s := range srcs {
			_, err := os.Stat(filepath.Join("..", s))
			assert.NoError(t, err, "COPY source %s", s)
		}
	}
	data, err := os.ReadFile("container.toml")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^buffer_dir = "([^"]+)"`).FindStringSubmatch(string(data))
	require.NotNil(t, m, "container.toml sets no buffer_dir")
	assert.Contains(t, d.volumes, filepath.Dir(m[1]))
}

// TestContainerHealthcheck runs the image's command and its health check.
func TestContainerHealthcheck(t *testing.T) {
	python := testkit.Python(t)
	d := readDockerfile(t)
	require.Equal(t, "python3", d.healthcheck[0])

	// The same command on a free loopback port: a later -listen wins.
	argv := append(containerArgs(t, d, t.TempDir()), "-listen", "127.0.0.1:0")
	p := start(t, argv, "COLLECTKIT_TOKEN=s3cret")
	_, port, err := net.SplitHostPort(p.addr)
	require.NoError(t, err)

	hc := append([]string{python}, d.healthcheck[1:]...)
	for i := range hc {
		hc[i] = strings.ReplaceAll(hc[i], "127.0.0.1:9529", "127.0.0.1:"+port)
	}
	out, err := exec.Command(hc[0], hc[1:]...).CombinedOutput()
	assert.NoError(t, err, "health check failed: %s", out)

	p.stop(t)
	out, err = exec.Command(hc[0], hc[1:]...).CombinedOutput()
	assert.Error(t, err, "health check passed with the agent stopped: %s", out)
}

func TestUnitVerifies(t *testing.T) {
	const analyze = "/usr/bin/systemd-analyze"
	testkit.Program(t, analyze)
	data, err := os.ReadFile("collectkit-agent.service")
	require.NoError(t, err)
	// verify checks that the commands exist: point ExecStart at the
	// built binary.
	unit := filepath.Join(t.TempDir(), "collectkit-agent.service")
	require.NoError(t, os.WriteFile(unit, bytes.ReplaceAll(data, []byte(installedBinary), []byte(agentBinary(t))), 0o644))
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	assert.NoError(t, err, "systemd-analyze verify:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify has warnings")
}

// TestServiceNotifications runs the unit's command as systemd would for
// Type=notify and ExecReload=kill -HUP: READY=1 once it serves, RELOADING=1
// with MONOTONIC_USEC and READY=1 again around a reload, STOPPING=1 at a
// stop, which ends well within TimeoutStopSec.
func TestServiceNotifications(t *testing.T) {
	u := readUnit(t, "collectkit-agent.service")
	require.Equal(t, "notify", u.one(t, "Type"))
	require.Equal(t, "/bin/kill -HUP $MAINPID", u.one(t, "ExecReload"))
	timeout, err := time.ParseDuration(u.one(t, "TimeoutStopSec"))
	require.NoError(t, err)

	name := fmt.Sprintf("@collectkit-packaging-test-%d", os.Getpid())
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	require.NoError(t, err)
	defer sock.Close()
	next := func() string {
		t.Helper()
		// Only a missing notification is bounded; none is timed.
		require.NoError(t, sock.SetReadDeadline(time.Now().Add(30*time.Second)))
		buf := make([]byte, 4096)
		n, err := sock.Read(buf)
		require.NoError(t, err)
		return string(buf[:n])
	}

	argv := append(serviceArgs(t, t.TempDir()), "-listen", "127.0.0.1:0")
	p := start(t, argv, "NOTIFY_SOCKET="+name)
	assert.Equal(t, "READY=1", next())

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	assert.Regexp(t, `^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*$`, next())
	assert.Equal(t, "READY=1", next())

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, "STOPPING=1", next())
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "agent exit")
	case <-time.After(timeout):
		t.Fatalf("the agent did not stop within TimeoutStopSec=%s", timeout)
	}
}

// proc is a running agent.
type proc struct {
	cmd    *exec.Cmd
	stderr *testkit.SyncBuffer
	addr   string
}

var listening = regexp.MustCompile(`msg="write API listening" addr=(\S+)`)

func start(t *testing.T, argv []string, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), stderr: &testkit.SyncBuffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("agent stderr:\n%s", p.stderr.String())
		}
	})
	require.Eventually(t, func() bool {
		m := listening.FindStringSubmatch(p.stderr.String())
		if m != nil {
			p.addr = m[1]
		}
		return m != nil
	}, 30*time.Second, 20*time.Millisecond, "the agent to listen")
	return p
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	assert.NoError(t, p.cmd.Wait())
}
