package pythond

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// parseKV is a pipeline as a host would run one: it parses the message
// "level=... msg=..." into fields, drops debug lines and fails on lines it
// cannot parse.
func parseKV(_ context.Context, source string, c point.Category, p *point.Point) (bool, error) {
	if c != point.Logging {
		return true, errors.New("not a logging point")
	}
	var msg string
	for _, f := range p.Fields {
		if f.Key == "message" {
			msg = f.Value.String()
		}
	}
	level, rest, ok := strings.Cut(strings.TrimPrefix(msg, "level="), " msg=")
	if !strings.HasPrefix(msg, "level=") || !ok {
		return true, errors.New("no level= in " + source + " line")
	}
	if level == "debug" {
		return false, nil
	}
	p.Fields = append(p.Fields, point.Field{Key: "status", Value: point.StringValue(level)}, point.Field{Key: "msg", Value: point.StringValue(rest)})
	return true, nil
}

// TestPipeline feeds logging lines from a Python collector through a
// pipeline: parsed lines get fields, a dropped one is not written, one the
// pipeline fails on is written as it was with a warning, and metrics do
// not go through it.
func TestPipeline(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	h.write("logs/logs.py", `
from datakit_framework import DataKitFramework

class Logs(DataKitFramework):
    name = 'Logs'
    interval = 3600

    def run(self):
        r = self.report({'L': [
            {"measurement": "app", "tags": {"service": "web"}, "fields": {"message": "level=info msg=started"}},
            {"measurement": "app", "fields": {"message": "level=debug msg=noise"}},
            {"measurement": "app", "fields": {"message": "garbage"}},
        ]})
        assert r == '', r
        r = self.report({'L': [{"measurement": "app", "fields": {"message": "level=debug msg=only"}}]})
        assert r == '', r
        self.report({'M': [{"measurement": "m", "tags": {"message": "level=info msg=metric"}, "fields": {"f": 1}}]})
`)
	var mu sync.Mutex
	var warned []point.Warning
	opts := h.options(Input{Name: "logs", Cmd: py, Dirs: []string{"logs"}})
	opts.Pipeline = parseKV
	opts.Constraint.OnWarnings = func(_ context.Context, b point.Batch, ws []point.Warning) {
		mu.Lock()
		for _, w := range ws {
			if strings.HasPrefix(w.Message, "pipeline: ") {
				warned = append(warned, w)
			}
		}
		mu.Unlock()
	}
	h.start(opts)
	pts := h.waitPoints(3, 20*time.Second)
	st := waitStatus(t, h.sup, "logs", "3 reports", func(in InputStatus) bool { return in.Reports >= 3 })
	assert.Equal(t, uint64(3), st.Points)
	assert.Zero(t, st.Rejected)
	require.Len(t, pts, 3)
	field := func(p point.Point, key string) string {
		for _, f := range p.Fields {
			if f.Key == key {
				return f.Value.String()
			}
		}
		return ""
	}
	assert.Equal(t, "app", pts[0].Name)
	assert.Equal(t, "info", field(pts[0], "status"))
	assert.Equal(t, "started", field(pts[0], "msg"))
	assert.Equal(t, "garbage", field(pts[1], "message"), "kept as it was")
	assert.Empty(t, field(pts[1], "msg"))
	assert.Equal(t, "m", pts[2].Name, "a metric does not go through the pipeline")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, warned, 1)
	assert.Equal(t, 2, warned[0].Point, "the index of the point in its report")
	assert.Contains(t, warned[0].Message, "pipeline: no level= in app line")
	assert.NotEmpty(t, h.logs.find("pipeline failed"))
}
