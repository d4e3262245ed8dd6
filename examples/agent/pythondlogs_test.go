package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// [pythond_logs] makes a datakit-framework input also write DataKit's log
// files: the framework log of the input gets what its collector logs with
// mylog, the CLI log the runner's records; the agent's log still has them.
func TestPythondLogFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "python.d", "logs"), 0o755))
	writeFile(t, filepath.Join(dir, "python.d", "logs"), "logs.py", `from datakit_framework import DataKitFramework


class Chatty(DataKitFramework):
    name = 'chatty'
    interval = 60

    def run(self):
        self.mylog("chatty says hello")
        self.feed_metric(measurement="chatty", fields={"v": 1})
`)
	cfg := writeFile(t, dir, "a.toml", `listen = "127.0.0.1:0"
pythond_dir = "python.d"
[pythond_logs]
dir = "logs"
[[inputs.pythond]]
name = "talk"
dirs = ["logs"]
`)
	out := filepath.Join(dir, "out")
	p := startAgent(t, "-config", cfg, "-out", out)
	framework := filepath.Join(dir, "logs", "_datakit_pythond_framework_talk_.log")
	cli := filepath.Join(dir, "logs", "_datakit_pythond_cli.log")
	waitFor(t, 20*time.Second, "the framework log file with the collector's record", func() bool {
		b, _ := os.ReadFile(framework)
		return strings.Contains(string(b), "chatty says hello")
	})
	waitFor(t, 10*time.Second, "the CLI log file", func() bool {
		b, _ := os.ReadFile(cli)
		return strings.Contains(string(b), "talk")
	})
	assert.Contains(t, p.stderr.String(), "chatty says hello", "the agent's log still gets the record")
	p.stop(t)
}
