package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// [election_tags] are added instead of [global_tags] to a write that says
// global_election_tags=true, as DataKit does for elected inputs.
func TestElectionTags(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "a.toml", `listen = "127.0.0.1:0"
[global_tags]
host = "web01"
[election_tags]
cluster = "eu1"
`)
	out := filepath.Join(dir, "out")
	p := startAgent(t, "-config", cfg, "-out", out)
	code, body := p.post(t, "/v1/write/metric?global_election_tags=true&precision=s", "", "elected v=1i 1700000000\n")
	require.Equal(t, http.StatusOK, code, body)
	code, body = p.post(t, "/v1/write/metric?precision=s", "", "plain v=1i 1700000000\n")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 0, p.stop(t))
	lines := readLines(t, filepath.Join(out, "metric.lp"))
	assert.Contains(t, lines, "elected,cluster=eu1 v=1i 1700000000000000000")
	assert.Contains(t, lines, "plain,host=web01 v=1i 1700000000000000000")
}

// The agent's default limits take a 33 MiB line-protocol body holding one
// 32 MiB string field (DataKit's largest field value).
func TestDefaultLimitsTakeA32MiBField(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	p := startAgent(t, "-config", writeFile(t, dir, "a.toml", "listen = \"127.0.0.1:0\"\n"), "-out", out)
	var body bytes.Buffer
	body.WriteString("big message=\"")
	body.WriteString(strings.Repeat("x", 32<<20))
	body.WriteString("\" 1700000000000000000\n")
	for body.Len() < 33<<20 {
		body.WriteString("filler,host=h value=1i 1700000000000000000\n")
	}
	resp, err := http.Post("http://"+p.addr+"/v1/write/logging", "", &body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 0, p.stop(t))
	data, err := os.ReadFile(filepath.Join(out, "logging.lp"))
	require.NoError(t, err)
	first, _, _ := bytes.Cut(data, []byte("\n"))
	assert.Len(t, first, len("big message=\"\",status=\"info\" 1700000000000000000")+32<<20)
	assert.True(t, bytes.HasPrefix(first, []byte("big message=\"xxx")))
}
