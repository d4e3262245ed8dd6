package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

// collectdDaemon is Debian's collectd (package collectd-core); its python
// plugin needs libpython3.11 and write_http needs libyajl2, which the
// package only suggests.
const (
	collectdDaemon  = "/usr/sbin/collectd"
	collectdPlugins = "/usr/lib/collectd"
)

// needCollectd skips the test when the real collectd or one of plugins
// (or a library it links) is missing, and fails it when CI is set.
func needCollectd(t *testing.T, plugins ...string) {
	t.Helper()
	missing := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing (apt-get install collectd-core libpython3.11 libyajl2): %v", what, err)
		}
		t.Skipf("%s is missing (apt-get install collectd-core libpython3.11 libyajl2); set CI to make this a failure: %v", what, err)
	}
	if _, err := os.Stat(collectdDaemon); err != nil {
		missing(collectdDaemon, err)
	}
	for _, p := range append([]string{"python"}, plugins...) {
		so := filepath.Join(collectdPlugins, p+".so")
		out, err := exec.Command("ldd", so).CombinedOutput()
		if err == nil && strings.Contains(string(out), "not found") {
			err = fmt.Errorf("unresolved libraries:\n%s", out)
		}
		if err != nil {
			missing(so, err)
		}
	}
}

// ckseqReads is how many reads the test plugin makes; each dispatches
// four value lists and one notification.
const ckseqReads = 12

// ckseqExpected is what the agent's -out files must hold, exactly once
// each, after ckseqReads reads of testdata/collectd/ckseq.py, with the
// global tag dc=east: the contract's point mapping (measurement = plugin;
// host, plugin_instance, type, type_instance tags; fields named by
// types.db; gauge float, derive int, counter and absolute uint).
func ckseqExpected() (metrics, events []string) {
	for k := range ckseqReads {
		ts := fmt.Sprintf("%d000000000", 1700000000+k)
		metrics = append(metrics,
			fmt.Sprintf("ckseq,dc=east,host=cktest,plugin_instance=pi,type=gauge,type_instance=g%d value=%g %s", k, float64(k)+0.5, ts),
			fmt.Sprintf("ckseq,dc=east,host=cktest,type=if_octets,type_instance=io%d rx=%di,tx=%di %s", k, k, 2*k, ts),
			fmt.Sprintf("ckseq,dc=east,host=cktest,type=counter,type_instance=c%d value=%du %s", k, uint64(1<<64-1)-uint64(k), ts),
			fmt.Sprintf("ckseq,dc=east,host=cktest,type=absolute,type_instance=a%d value=%du %s", k, k, ts),
		)
		events = append(events,
			fmt.Sprintf(`ckseq,dc=east,host=cktest,plugin_instance=npi,type=gauge,type_instance=n%d df_message="note %d",df_source="system",df_status="warning",df_title="note %d" %s`, k, k, k, ts))
	}
	slices.Sort(metrics)
	slices.Sort(events)
	return metrics, events
}

// collectdProc is a running collectd daemon.
type collectdProc struct {
	cmd *exec.Cmd
	log *testkit.SyncBuffer
}

// startCollectd runs the real collectd in the foreground with a
// configuration of the test plugin (ModulePath testdata/collectd, reads
// every 0.25s) followed by extra, which sets up the plugin that sends to
// the agent.
func startCollectd(t *testing.T, dir, extra string) (*collectdProc, string) {
	t.Helper()
	modDir, err := filepath.Abs(filepath.Join("testdata", "collectd"))
	require.NoError(t, err)
	done := filepath.Join(dir, "ckseq.done")
	conf := fmt.Sprintf(`Hostname "cktest"
FQDNLookup false
Interval 0.25
BaseDir %q
TypesDB %q
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File stderr
</Plugin>
<LoadPlugin python>
  Globals true
</LoadPlugin>
<Plugin python>
  ModulePath %q
  Import "ckseq"
  <Module ckseq>
    Reads %d
    DoneFile %q
  </Module>
</Plugin>
%s`, dir, "/usr/share/collectd/types.db", modDir, ckseqReads, done, extra)
	confPath := writeFile(t, dir, "collectd.conf", conf)
	p := &collectdProc{log: &testkit.SyncBuffer{}}
	p.cmd = exec.Command(collectdDaemon, "-f", "-C", confPath)
	p.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin"}
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("collectd log:\n%s", p.log.String())
		}
	})
	return p, done
}

// stop sends SIGTERM (collectd flushes its write plugins on the way out)
// and waits for the exit.
func (p *collectdProc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "collectd exit")
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatal("collectd did not stop within 20s of SIGTERM")
	}
}

// checkDelivery waits for the first metric line while collectd still
// runs (it buffers: a network packet fills to about 1,400 bytes,
// write_http to its BufferSize), then for the plugin's last read, stops
// collectd and compares what arrived with what was dispatched: every
// value list and notification exactly once.
func checkDelivery(t *testing.T, p *collectdProc, doneFile, outDir string) {
	t.Helper()
	metricFile := filepath.Join(outDir, "metric.lp")
	keyeventFile := filepath.Join(outDir, "keyevent.lp")
	waitFor(t, 30*time.Second, "the first value lists from collectd", func() bool {
		return len(readLines(t, metricFile)) > 0
	})
	waitFor(t, 30*time.Second, "the plugin's last read", func() bool {
		_, err := os.Stat(doneFile)
		return err == nil
	})
	p.stop(t)

	wantMetrics, wantEvents := ckseqExpected()
	// The agent's files are flushed within a second of a write.
	deadline := time.Now().Add(10 * time.Second)
	var gotMetrics, gotEvents []string
	for {
		gotMetrics, gotEvents = readLines(t, metricFile), readLines(t, keyeventFile)
		if len(gotMetrics) >= len(wantMetrics) && len(gotEvents) >= len(wantEvents) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	slices.Sort(gotMetrics)
	slices.Sort(gotEvents)
	assert.Equal(t, wantMetrics, gotMetrics, "value lists: each exactly once, mapped exactly")
	assert.Equal(t, wantEvents, gotEvents, "notifications: each exactly once, mapped exactly")
}

var collectdListenRE = regexp.MustCompile(`msg="collectd network listening".* addr=(\S+)`)

func TestCollectdNetworkFromRealCollectd(t *testing.T) {
	needCollectd(t, "network")
	for _, level := range []string{"None", "Sign", "Encrypt"} {
		t.Run(level, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "collectd.passwd", "alice: s3cret\nbob: other\n")
			cfg := `listen = "127.0.0.1:0"

[global_tags]
dc = "east"

[collectd_network]
listen = "127.0.0.1:0"
security_level = "` + level + `"
auth_file = "collectd.passwd"
`
			outDir := filepath.Join(dir, "out")
			a := startAgent(t, "-config", writeFile(t, dir, "agent.toml", cfg), "-out", outDir)
			var udpAddr string
			waitFor(t, 10*time.Second, "the collectd listener", func() bool {
				m := collectdListenRE.FindStringSubmatch(a.stderr.String())
				if m != nil {
					udpAddr = m[1]
				}
				return m != nil
			})
			host, port, ok := strings.Cut(udpAddr, ":")
			require.True(t, ok, udpAddr)
			security := ""
			if level != "None" {
				security = fmt.Sprintf("    SecurityLevel %s\n    Username \"alice\"\n    Password \"s3cret\"\n", level)
			}
			c, done := startCollectd(t, dir, fmt.Sprintf(`LoadPlugin network
<Plugin network>
  <Server %q %q>
%s  </Server>
</Plugin>
`, host, port, security))
			checkDelivery(t, c, done, outDir)
			assert.Equal(t, 0, a.stop(t))
			assert.NotContains(t, a.stderr.String(), "level=WARN")
			assert.NotContains(t, a.stderr.String(), "level=ERROR")
		})
	}
}

// TestCollectdNetworkDropsWhatIsBelowTheLevel has collectd send every
// packet three times: plain, signed with a wrong password, and
// encrypted with the right one. At Encrypt the agent keeps only the last
// copy: everything arrives exactly once, and the others are logged.
func TestCollectdNetworkDropsWhatIsBelowTheLevel(t *testing.T) {
	needCollectd(t, "network")
	dir := t.TempDir()
	writeFile(t, dir, "collectd.passwd", "alice: s3cret\n")
	cfg := `listen = "127.0.0.1:0"

[global_tags]
dc = "east"

[collectd_network]
listen = "127.0.0.1:0"
security_level = "Encrypt"
auth_file = "collectd.passwd"
`
	outDir := filepath.Join(dir, "out")
	a := startAgent(t, "-config", writeFile(t, dir, "agent.toml", cfg), "-out", outDir)
	var m []string
	waitFor(t, 10*time.Second, "the collectd listener", func() bool {
		m = collectdListenRE.FindStringSubmatch(a.stderr.String())
		return m != nil
	})
	host, port, _ := strings.Cut(m[1], ":")
	c, done := startCollectd(t, dir, fmt.Sprintf(`LoadPlugin network
<Plugin network>
  <Server %[1]q %[2]q>
  </Server>
  <Server %[1]q %[2]q>
    SecurityLevel Sign
    Username "alice"
    Password "wrong"
  </Server>
  <Server %[1]q %[2]q>
    SecurityLevel Encrypt
    Username "alice"
    Password "s3cret"
  </Server>
</Plugin>
`, host, port))
	checkDelivery(t, c, done, outDir)
	assert.Equal(t, 0, a.stop(t))
	logs := a.stderr.String()
	assert.Contains(t, logs, `msg="collectd: bad network packet"`)
	assert.Contains(t, logs, "source=127.0.0.1:")
}

func TestCollectdWriteHTTPFromRealCollectd(t *testing.T) {
	needCollectd(t, "write_http")
	dir := t.TempDir()
	cfg := `listen = "127.0.0.1:0"
token = "tok-9"

[global_tags]
dc = "east"
`
	outDir := filepath.Join(dir, "out")
	a := startAgent(t, "-config", writeFile(t, dir, "agent.toml", cfg), "-out", outDir)
	// The token as the Basic-auth password; LogHttpError makes collectd
	// log any answer but 200.
	c, done := startCollectd(t, dir, fmt.Sprintf(`LoadPlugin write_http
<Plugin write_http>
  <Node "agent">
    URL "http://%s/collectd"
    User "collectd"
    Password "tok-9"
    Format "JSON"
    Notifications true
    LogHttpError true
  </Node>
</Plugin>
`, a.addr))
	checkDelivery(t, c, done, outDir)
	assert.NotContains(t, c.log.String(), "write_http plugin: HTTP Error code")
	assert.NotContains(t, c.log.String(), "curl_easy_perform failed")
	assert.Equal(t, 0, a.stop(t))
}

func TestCollectdNetworkConfig(t *testing.T) {
	tests := []struct {
		name, cfg, want string
	}{
		{"not loopback", "[collectd_network]\nlisten = \"0.0.0.0:25826\"\n", `collectd_network.listen: "0.0.0.0:25826" is not a loopback address; set allow_remote = true`},
		{"all interfaces", "[collectd_network]\nlisten = \":25826\"\n", "collectd_network.listen"},
		{"not host:port", "[collectd_network]\nlisten = \"25826\"\n", `collectd_network.listen: "25826" is not host:port`},
		{"bad level", "[collectd_network]\nsecurity_level = \"Paranoid\"\n", `collectd_network.security_level: "Paranoid" is not "None", "Sign" or "Encrypt"`},
		{"sign without auth file", "[collectd_network]\nsecurity_level = \"Sign\"\n", `collectd_network.auth_file: required when security_level = "Sign"`},
		{"unknown key", "[collectd_network]\nlisten_addr = \"x\"\n", "collectd_network.listen_addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("agent.toml", []byte(tt.cfg))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	for _, ok := range []string{
		"[collectd_network]\n",
		"[collectd_network]\nlisten = \"localhost:25826\"\nsecurity_level = \"encrypt\"\nauth_file = \"a\"\n",
		"[collectd_network]\nlisten = \"[::1]:25826\"\n",
		"allow_remote = true\ntoken = \"t\"\n[collectd_network]\nlisten = \"0.0.0.0:25826\"\nsecurity_level = \"Sign\"\nauth_file = \"a\"\n",
	} {
		cfg, err := parseConfig("agent.toml", []byte(ok))
		require.NoError(t, err, ok)
		require.NotNil(t, cfg.CollectdNetwork)
	}
	cfg, err := parseConfig("agent.toml", []byte("listen = \"127.0.0.1:0\"\n"))
	require.NoError(t, err)
	assert.Nil(t, cfg.CollectdNetwork, "no table, no listener")
}

// A [collectd_network] that cannot start is an input that does not run:
// -check-config refuses it, and a running agent reports it and keeps its
// other parts up.
func TestCollectdNetworkStartupErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, cfg, want string }{
		{"types.db missing", "[collectd_network]\nlisten = \"127.0.0.1:0\"\ntypes_db = [\"nope.db\"]\n", "collectd_network.types_db"},
		{"auth file missing", "[collectd_network]\nlisten = \"127.0.0.1:0\"\nsecurity_level = \"Sign\"\nauth_file = \"nope.passwd\"\n", "collectd_network.auth_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(agentBinary(t), "-check-config", "-config", writeFile(t, dir, "a.toml", "listen = \"127.0.0.1:0\"\n"+tt.cfg)).CombinedOutput()
			require.Error(t, err)
			assert.Contains(t, string(out), tt.want)
		})
	}
	t.Run("port taken", func(t *testing.T) {
		// Two agents on one UDP port: the second runs without it.
		first := startAgent(t, "-config", writeFile(t, dir, "first.toml", "listen = \"127.0.0.1:0\"\n[collectd_network]\nlisten = \"127.0.0.1:0\"\n"))
		var m []string
		waitFor(t, 10*time.Second, "the collectd listener", func() bool {
			m = collectdListenRE.FindStringSubmatch(first.stderr.String())
			return m != nil
		})
		second := startAgent(t, "-config", writeFile(t, dir, "second.toml", "listen = \"127.0.0.1:0\"\n[collectd_network]\nlisten = \""+m[1]+"\"\n"))
		waitFor(t, 10*time.Second, "the problem in the log", func() bool {
			return strings.Contains(second.stderr.String(), `msg="input not running; the others run" input=collectd_network problem="collectd_network.listen:`)
		})
		code, body := second.post(t, "/v1/write/metric", "", "still_up v=1i\n")
		assert.Equal(t, 200, code, body)
		assert.Equal(t, 0, second.stop(t))
		assert.Equal(t, 0, first.stop(t))
	})
}

func TestCollectdGlobalTagsSink(t *testing.T) {
	var rec pointtest.Recorder
	now := time.Unix(1800000000, 0)
	s := withGlobalTags(map[string]string{"host": "agent", "dc": "east"}, func() time.Time { return now }, &rec)
	in := point.Batch{Category: point.Metric, Input: "collectd", Points: []point.Point{
		{Name: "load", Tags: []point.Tag{{Key: "host", Value: "web01"}}, Fields: []point.Field{{Key: "shortterm", Value: point.FloatValue(1)}}, Time: time.Unix(1700000000, 0)},
		{Name: "ckseq", Fields: []point.Field{{Key: "value", Value: point.IntValue(1)}}},
	}}
	orig := in.Clone()
	require.NoError(t, s.Write(context.Background(), in))
	assert.Equal(t, orig, in, "the incoming batch is not modified")
	got := rec.Points()
	require.Len(t, got, 2)
	assert.Equal(t, []point.Tag{{Key: "host", Value: "web01"}, {Key: "dc", Value: "east"}}, got[0].Tags, "the value list's host wins")
	assert.Equal(t, time.Unix(1700000000, 0), got[0].Time)
	assert.Equal(t, []point.Tag{{Key: "dc", Value: "east"}, {Key: "host", Value: "agent"}}, got[1].Tags)
	assert.Equal(t, now, got[1].Time, "a point without a time gets now")
}

func TestCollectdNetworkRemoteWithoutSecurityWarns(t *testing.T) {
	dir := t.TempDir()
	cfg := "listen = \"127.0.0.1:0\"\nallow_remote = true\ntoken = \"t\"\n[collectd_network]\nlisten = \"0.0.0.0:0\"\n"
	a := startAgent(t, "-config", writeFile(t, dir, "agent.toml", cfg))
	waitFor(t, 10*time.Second, "the collectd listener", func() bool {
		return collectdListenRE.MatchString(a.stderr.String())
	})
	assert.Contains(t, a.stderr.String(), `level=WARN msg="allow_remote with security_level \"None\": any host that reaches the port may send"`)
	assert.Equal(t, 0, a.stop(t))
}
