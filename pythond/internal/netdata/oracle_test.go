package netdata

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// Running the real python.d.plugin 1.37 (Debian netdata-plugins-python)
// outside Netdata, as learned by doing it:
//
//   - It runs as "/usr/bin/python3 .../python.d.plugin 1 example mymod": the
//     first number is the minimum update_every, then the modules to run.
//   - NETDATA_PLUGINS_DIR=/usr/lib/netdata/plugins.d makes the stock modules
//     (../python.d) and their bases importable. NETDATA_USER_PLUGINS_DIRS
//     adds "<dir>/python.d" dirs of own modules.
//   - NETDATA_USER_CONFIG_DIR must hold a python.d.conf with "example: yes":
//     the stock python.d.conf says "example: no". A <module>.conf found in
//     <user config dir>/python.d wins over the stock one; a module with no
//     conf file at all runs one job named after the module.
//   - NETDATA_LIB_DIR and NETDATA_LOCK_DIR must be writable (job status file,
//     per-job lock files); a missing status file only logs a warning.
//   - NETDATA_INTERNALS_MONITORING=NO leaves out the netdata.runtime_* charts.
//   - It never flushes stdout, so with a pipe or file as stdout nothing comes
//     for minutes (8 KiB blocks): set PYTHONUNBUFFERED=1.
//   - It takes 1-2 s to start (imports, job checks), prints each chart's
//     CHART/CLABEL/DIMENSION lines just before its first BEGIN, and an empty
//     line every second as keep-alive.

const oracleModule = `from bases.FrameworkServices.SimpleService import SimpleService

ORDER = ['counters']
CHARTS = {
    'counters': {
        'options': [None, 'Counters', 'things/s', 'counters', 'ckoracle.counters', 'line'],
        'lines': [
            ['up', None, 'incremental'],
            ['down', 'sent', 'incremental', -8, 1000],
            ['share_a', None, 'percentage-of-absolute-row'],
            ['share_b', None, 'percentage-of-absolute-row'],
            ['secret', None, 'absolute', 1, 10, 'hidden'],
        ],
    },
}


class Service(SimpleService):
    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS
        self.n = 0

    @staticmethod
    def check():
        return True

    def get_data(self):
        self.n += 1
        return {'up': 1000 * self.n, 'down': 5000 * self.n * self.n,
                'share_a': self.n, 'share_b': 3, 'secret': 7 * self.n}
`

const (
	pythondPlugin = "/usr/lib/netdata/plugins.d/python.d.plugin"
	debianPython  = "/usr/bin/python3"
)

func TestOracleRealPythonDPlugin(t *testing.T) {
	for _, f := range []string{pythondPlugin, debianPython} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: install netdata-plugins-python", f)
			}
			t.Skipf("%s is missing: install netdata-plugins-python (Debian) to compare with the real python.d.plugin", f)
		}
	}
	dir := t.TempDir()
	for _, d := range []string{"conf/python.d", "plugins/python.d", "lib", "lock"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("conf/python.d.conf", "example: yes\n")
	write("conf/python.d/example.conf", "two_lines:\n  name: \"Two Lines\"\n  num_lines: 2\nthree:\n  num_lines: 3\n  upper: 1000000\n")
	write("plugins/python.d/ckoracle.chart.py", oracleModule)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, pythondPlugin, "1", "example", "ckoracle")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=/usr/bin:/bin",
		"PYTHONUNBUFFERED=1",
		"NETDATA_PLUGINS_DIR=/usr/lib/netdata/plugins.d",
		"NETDATA_USER_PLUGINS_DIRS=" + filepath.Join(dir, "plugins"),
		"NETDATA_USER_CONFIG_DIR=" + filepath.Join(dir, "conf"),
		"NETDATA_STOCK_CONFIG_DIR=/usr/lib/netdata/conf.d",
		"NETDATA_LIB_DIR=" + filepath.Join(dir, "lib"),
		"NETDATA_LOCK_DIR=" + filepath.Join(dir, "lock"),
		"NETDATA_INTERNALS_MONITORING=NO",
	}
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var raw testkit.SyncBuffer
	var mu sync.Mutex
	var pts []point.Point
	perChart := map[string]int{}
	var bad []error
	e := New(Options{OnError: func(err error) { bad = append(bad, err) }})
	readDone := make(chan error, 1)
	go func() {
		readDone <- e.Read(ctx, io.TeeReader(stdout, &raw), func(batch []point.Point) error {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range batch {
				pts = append(pts, p)
				c, _ := p.Tag("chart")
				perChart[c]++
			}
			return nil
		})
	}()
	charts := []string{"example_Two_Lines.random", "example_three.random", "ckoracle.counters"}
	enough := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range charts {
			if perChart[c] < 4 {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(20 * time.Second); !enough(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not enough updates after 20 s: %v\nstderr:\n%s\nstdout:\n%s", perChart, stderr.String(), raw.String())
		}
	}
	require.NoError(t, cmd.Process.Kill())
	require.NoError(t, <-readDone)
	_ = cmd.Wait()

	require.Empty(t, bad)
	t.Logf("%d points from %d bytes of python.d.plugin output: %v", len(pts), len(raw.String()), perChart)
	want := expectFromText(t, raw.String())
	require.Equal(t, len(want), len(pts), "one point per chart per END with values")
	for i := range pts {
		p, w := pts[i], want[i]
		c, _ := p.Tag("chart")
		require.Equal(t, w.chart, c, "point %d", i)
		require.Len(t, p.Fields, len(w.fields), "point %d of %s: %v", i, c, p)
		for _, f := range p.Fields {
			wv, ok := w.fields[f.Key]
			require.True(t, ok, "point %d of %s: unexpected field %s", i, c, f.Key)
			assert.InDelta(t, wv, f.Value.Float(), 1e-9*max(1, abs(wv)), "point %d of %s field %s", i, c, f.Key)
		}
	}
	byChart := map[string]point.Point{}
	for _, p := range pts {
		c, _ := p.Tag("chart")
		byChart[c] = p
	}
	tagsOf := func(p point.Point) string {
		var s []string
		for _, t := range p.Tags {
			s = append(s, t.Key+"="+t.Value)
		}
		return p.Name + " " + strings.Join(s, ",")
	}
	assert.Equal(t, "random job=Two_Lines,chart=example_Two_Lines.random,family=random,module=example", tagsOf(byChart["example_Two_Lines.random"]))
	assert.Equal(t, "random job=three,chart=example_three.random,family=random,module=example", tagsOf(byChart["example_three.random"]))
	assert.Equal(t, "ckoracle.counters job=ckoracle,chart=ckoracle.counters,family=counters,module=ckoracle", tagsOf(byChart["ckoracle.counters"]))
	last := byChart["ckoracle.counters"]
	for _, k := range []string{"up", "sent", "share_a", "share_b", "secret"} {
		_, ok := last.Field(k)
		assert.True(t, ok, "field %s (hidden dimensions are stored too)", k)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

type expected struct {
	chart  string
	fields map[string]float64
}

// expectFromText computes, independently of the Engine and only for the
// dimensions the two modules above define, what each END of text should
// give: the example module's values as collected, and ckoracle's per its
// algorithms, with the BEGIN microseconds as the interval.
func expectFromText(t *testing.T, text string) []expected {
	type state struct {
		last map[string]int64
	}
	charts := map[string]*state{}
	var out []expected
	var cur string
	var micros int64
	sets := map[string]int64{}
	var order []string
	unq := func(s string) string { return strings.Trim(s, "'\"") }
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "BEGIN":
			cur = f[1]
			micros, _ = strconv.ParseInt(f[2], 10, 64)
			clear(sets)
			order = order[:0]
		case "SET":
			v, err := strconv.ParseInt(f[3], 10, 64)
			require.NoError(t, err, l)
			sets[unq(f[1])] = v
			order = append(order, unq(f[1]))
		case "END":
			st := charts[cur]
			if st == nil {
				st = &state{last: map[string]int64{}}
				charts[cur] = st
			}
			w := expected{chart: cur, fields: map[string]float64{}}
			if strings.HasPrefix(cur, "example_") {
				for k, v := range sets {
					w.fields[k] = float64(v)
				}
			} else {
				var sum float64
				for _, v := range sets {
					sum += float64(v)
				}
				secs := float64(micros) / 1e6
				if prev, ok := st.last["up"]; ok && micros > 0 {
					w.fields["up"] = float64(sets["up"]-prev) / secs
					w.fields["sent"] = float64(sets["down"]-st.last["down"]) * -8 / 1000 / secs
				}
				w.fields["share_a"] = 100 * float64(sets["share_a"]) / sum
				w.fields["share_b"] = 100 * float64(sets["share_b"]) / sum
				w.fields["secret"] = float64(sets["secret"]) / 10
			}
			for k, v := range sets {
				st.last[k] = v
			}
			require.NotEmpty(t, order, fmt.Sprintf("END of %s without SET", cur))
			out = append(out, w)
			cur = ""
		}
	}
	return out
}
