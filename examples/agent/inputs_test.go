package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An input that cannot start (missing dir, missing interpreter, a dir
// without collectors, a prom input whose CA file is missing) is reported
// and left out; the agent and its other inputs run. -check-config still
// refuses the same configuration.
func TestBadInputsDoNotStopTheAgent(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "good")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "python.d", "empty"), 0o755))
	cfg := writeFile(t, dir, "a.toml", `listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "good"
dirs = ["good"]
[[inputs.pythond]]
name = "nodir"
dirs = ["missing"]
[[inputs.pythond]]
name = "nocmd"
cmd = "/nonexistent/python9"
dirs = ["good"]
[[inputs.pythond]]
name = "empty"
dirs = ["empty"]
[[inputs.prom]]
name = "tlsbad"
urls = ["https://127.0.0.1:1/metrics"]
tls_ca = "ca.pem"
`)
	out := filepath.Join(dir, "out")
	p := startAgent(t, "-config", cfg, "-out", out)
	waitFor(t, 20*time.Second, "the good input's points", func() bool {
		return strings.Contains(strings.Join(readLines(t, filepath.Join(out, "metric.lp")), "\n"), "good_metric,")
	})
	waitFor(t, 10*time.Second, "every bad input in the log", func() bool {
		s := p.stderr.String()
		return strings.Contains(s, "pythond=nodir") && strings.Contains(s, "pythond=nocmd") &&
			strings.Contains(s, "no collector found in "+filepath.Join(dir, "python.d", "empty")) && strings.Contains(s, `input="inputs.prom[0] (tlsbad)"`)
	})
	stderr := p.stderr.String()
	assert.Contains(t, stderr, `config key inputs.pythond[2].cmd: invalid configuration: Python interpreter \"/nonexistent/python9\" not found`, "keys name the input's place in the file")
	assert.Contains(t, stderr, `config key inputs.pythond[1].dirs[0]: bad collector directory`)
	assert.Contains(t, stderr, "tls_ca: open "+filepath.Join(dir, "ca.pem"))
	code, body := p.post(t, "/v1/write/metric", "", "still_up v=1i\n")
	assert.Equal(t, 200, code, body)

	// /v1/status shows each input's state, the problem of the one that
	// could not be built, the reported errors, and the points accepted.
	var st struct {
		Pythond []struct {
			Name, State, Problem string
			PID                  int
		} `json:"pythond"`
		Problems    []string                     `json:"problems"`
		LastErrors  map[string][]json.RawMessage `json:"last_errors"`
		PointsTotal uint64                       `json:"points_total"`
	}
	code, _, body = p.get(t, "/v1/status")
	require.Equal(t, 200, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	states := map[string]string{}
	for _, in := range st.Pythond {
		states[in.Name] = in.State
	}
	assert.Equal(t, "running", states["good"])
	assert.Equal(t, "broken", states["nodir"])
	assert.Equal(t, "broken", states["nocmd"])
	require.Len(t, st.Problems, 1)
	assert.Contains(t, st.Problems[0], "inputs.prom[0] (tlsbad): inputs.prom[0]: tls_ca: open")
	for _, in := range []string{"nodir", "nocmd", "tlsbad"} {
		assert.NotEmpty(t, st.LastErrors[in], "lasterror of %s", in)
	}
	assert.Positive(t, st.PointsTotal)
	code, _, body = p.get(t, "/status")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "tlsbad")
	assert.Equal(t, 0, p.stop(t))

	_, stderr, code = runBinary(t, "-config", cfg, "-check-config")
	assert.Equal(t, 1, code)
	for _, want := range []string{"inputs.pythond[1].dirs[0]", "inputs.pythond[2].cmd", "inputs.pythond[3].dirs[0]: " + filepath.Join(dir, "python.d", "empty") + " holds no collector", "inputs.prom[0]: tls_ca"} {
		assert.Contains(t, stderr, want)
	}
}
