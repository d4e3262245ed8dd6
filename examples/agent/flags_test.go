package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// runBinary runs the agent to completion and returns its stdout, stderr
// and exit status.
func runBinary(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBinary(t), args...)
	var stdout, stderr testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return stdout.String(), stderr.String(), code
}

func TestHelpAndVersion(t *testing.T) {
	_, stderr, code := runBinary(t, "-h")
	assert.Equal(t, 0, code, "-h is not an error")
	for _, f := range []string{"-config-dir", "-check-config", "-test", "-sample-config", "-log-level", "-log-format", "-version", "SIGHUP"} {
		assert.Contains(t, stderr, f)
	}
	stdout, _, code := runBinary(t, "-version")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^collectkit-agent/\S+ go1\.\S+`, stdout)
	stdout, _, code = runBinary(t, "-sample-config")
	assert.Equal(t, 0, code)
	assert.Equal(t, string(sampleConfig), stdout)
	_, stderr, code = runBinary(t, "-log-format", "xml")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `-log-format: "xml" is not text or json`)
}

func TestLogFlags(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n")
	cmd := exec.Command(agentBinary(t), "-config", cfg, "-log-format", "json", "-log-level", "debug")
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitFor(t, 15*time.Second, "a JSON record", func() bool {
		return strings.Contains(stderr.String(), `"msg":"write API listening"`)
	})
	assert.Contains(t, stderr.String(), `"level":"INFO"`)

	// warn hides the info records.
	p := exec.Command(agentBinary(t), "-config", cfg, "-log-level", "warn", "-check-config")
	out, err := p.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "level=INFO")
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "good")
	good := writeFile(t, dir, "good.toml", `listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "good"
dirs = ["good"]
[[inputs.prom]]
name = "node"
urls = ["http://127.0.0.1:9100/metrics"]
`)
	stdout, stderr, code := runBinary(t, "-config", good, "-check-config")
	require.Equal(t, 0, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "inputs.pythond[0] (good): framework datakit, cmd /")
	assert.Contains(t, stdout, "  dir "+filepath.Join(dir, "python.d", "good")+": good.py\n")
	assert.Contains(t, stdout, "inputs.prom[0] (node): every 30s, urls http://127.0.0.1:9100/metrics")
	assert.Contains(t, stdout, "configuration OK: 2 inputs")

	bad := writeFile(t, dir, "bad.toml", `listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "nodir"
dirs = ["missing"]
[[inputs.pythond]]
name = "nocmd"
cmd = "/nonexistent/python9"
dirs = ["good"]
[[inputs.prom]]
urls = ["https://127.0.0.1:9100/metrics"]
tls_ca = "ca.pem"
`)
	stdout, stderr, code = runBinary(t, "-config", bad, "-check-config")
	assert.Equal(t, 1, code, "%s", stdout)
	assert.Contains(t, stderr, "inputs.pythond[0].dirs[0]")
	assert.Contains(t, stderr, "inputs.pythond[1].cmd")
	assert.Contains(t, stderr, "/nonexistent/python9")
	assert.Contains(t, stderr, "inputs.prom[0]: tls_ca: open "+filepath.Join(dir, "ca.pem"))
	assert.Contains(t, stdout, "dir "+filepath.Join(dir, "python.d", "missing")+": missing or unreadable")
}

// -test runs each collector once and prints its points.
func TestTestFlag(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "one", "two")
	cfg := writeFile(t, dir, "a.toml", `pythond_dir = "python.d"
[global_tags]
host = "test-host"
[[inputs.pythond]]
name = "one"
dirs = ["one"]
[[inputs.pythond]]
name = "two"
dirs = ["two"]
[[inputs.prom]]
name = "exp"
urls = ["`+exporter(t, "test_gauge")+`"]
`)
	stdout, stderr, code := runBinary(t, "-config", cfg, "-test")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `(?m)^one_metric,host=test-host,src=py value=1 \d+$`, stdout)
	assert.Regexp(t, `(?m)^two_metric,host=test-host,src=py value=1 \d+$`, stdout)
	assert.Regexp(t, `(?m)^test_gauge,host=test-host,instance=\S+,job=exp value=7 \d+$`, stdout)
	assert.NotContains(t, stderr, "write API listening", "-test serves nothing")

	// A collector whose run never ends fails -test, naming its input.
	silent := filepath.Join(dir, "python.d", "silent")
	require.NoError(t, os.MkdirAll(silent, 0o755))
	writeFile(t, silent, "silent.py", "import time\n\nfrom datakit_framework import DataKitFramework\n\n\nclass S(DataKitFramework):\n    name = 'silent'\n    interval = 60\n\n    def run(self):\n        time.sleep(60)\n")
	cfg = writeFile(t, dir, "b.toml", "pythond_dir = \"python.d\"\n[[inputs.pythond]]\nname = \"silent\"\ndirs = [\"silent\"]\n")
	_, stderr, code = runBinary(t, "-config", cfg, "-test", "-test-timeout", "3s")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "inputs.pythond[0] (silent): did not report within 3s")
}

// The DataKit layout: the documentation's pythond.conf in
// <install>/conf.d/pythond/, its script under <install>/python.d, used
// with -config-dir alone.
func TestDataKitConfDirRuns(t *testing.T) {
	install := t.TempDir()
	require.NoError(t, os.CopyFS(install, os.DirFS(filepath.Join("testdata", "datakit", "python.d"))))
	require.NoError(t, os.Rename(filepath.Join(install, "mytest"), filepath.Join(install, "tmp-mytest")))
	require.NoError(t, os.MkdirAll(filepath.Join(install, "python.d"), 0o755))
	require.NoError(t, os.Rename(filepath.Join(install, "tmp-mytest"), filepath.Join(install, "python.d", "mytest")))
	confd := filepath.Join(install, "conf.d", "pythond")
	require.NoError(t, os.MkdirAll(confd, 0o755))
	writeFile(t, confd, "pythond.conf", seedPythondConf(t))
	writeFile(t, filepath.Join(install, "conf.d"), "datakit.conf", "[dataway]\nurls = [\"https://openway.example/v1/write\"]\n")

	stdout, stderr, code := runBinary(t, "-config-dir", filepath.Join(install, "conf.d"), "-check-config")
	require.Equal(t, 0, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "DataKit layout: install directory "+install)
	assert.Contains(t, stdout, "inputs.pythond[0] (some-python-inputs): framework datakit")
	assert.Contains(t, stdout, "dir "+filepath.Join(install, "python.d", "mytest")+": test.py")

	out := filepath.Join(t.TempDir(), "out")
	p := startAgent(t, "-config-dir", filepath.Join(install, "conf.d"), "-listen", "127.0.0.1:0", "-out", out)
	waitFor(t, 20*time.Second, "the script's point", func() bool {
		return strings.Contains(strings.Join(readLines(t, filepath.Join(out, "metric.lp")), "\n"), "seed_layout,layout=datakit ")
	})
	assert.Equal(t, 0, p.stop(t))
}
