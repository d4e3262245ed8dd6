package netdata

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// feedAll feeds text to e line by line, each update (the text of one
// element of updates) collected one second after the previous one, and
// returns the points and the errors.
func feedAll(e *Engine, updates ...string) (pts []point.Point, errs []error) {
	for i, u := range updates {
		now := t0.Add(time.Duration(i) * time.Second)
		for _, l := range strings.SplitAfter(u, "\n") {
			if l == "" {
				continue
			}
			var err error
			pts, err = e.Feed(pts, []byte(l), now)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return pts, errs
}

// fieldsOf returns the fields of each point as a map, for comparing.
func fieldsOf(pts []point.Point) []map[string]float64 {
	out := make([]map[string]float64, 0, len(pts))
	for _, p := range pts {
		m := map[string]float64{}
		for _, f := range p.Fields {
			m[f.Key] = f.Value.Float()
		}
		out = append(out, m)
	}
	return out
}

func update(micros int, sets ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN t.c ")
	b.WriteString(strconv.Itoa(micros))
	b.WriteString("\n")
	for _, s := range sets {
		b.WriteString("SET ")
		b.WriteString(s)
		b.WriteString("\n")
	}
	b.WriteString("END\n")
	return b.String()
}

func TestAlgorithms(t *testing.T) {
	const chart = "CHART t.c '' 'T' 'u' 'f' 'ctx.c' line 1 1 '' 'p' 'm'\n"
	tests := []struct {
		name    string
		dims    string
		updates []string
		want    []map[string]float64
	}{
		{
			name:    "absolute with multiplier and divisor",
			dims:    "DIMENSION a a absolute -1 8 ''\nDIMENSION b b absolute 3 1 ''\nDIMENSION z z absolute 0 0 ''\n",
			updates: []string{update(0, "a = 80", "b = 7", "z = 5"), update(1000000, "a = -4", "b = 0", "z = -5")},
			want:    []map[string]float64{{"a": -10, "b": 21, "z": 5}, {"a": 0.5, "b": 0, "z": -5}},
		},
		{
			name:    "absolute default params",
			dims:    "DIMENSION a\n",
			updates: []string{update(0, "a = 9223372036854775807")},
			want:    []map[string]float64{{"a": 9223372036854775807}},
		},
		{
			name: "incremental is a per-second rate from the BEGIN microseconds",
			dims: "DIMENSION a a incremental 1 1\nDIMENSION b b incremental 8 1024\n",
			updates: []string{
				update(0, "a = 100", "b = 1024"),
				update(1000000, "a = 300", "b = 2048"),
				update(2000000, "a = 600", "b = 2048"),
			},
			want: []map[string]float64{{"a": 200, "b": 8}, {"a": 150, "b": 0}},
		},
		{
			name: "incremental without microseconds uses the collection times",
			dims: "DIMENSION a a incremental -1 1\n",
			updates: []string{
				update(0, "a = 100"),
				update(0, "a = 150"),
			},
			want: []map[string]float64{{"a": -50}},
		},
		{
			name: "incremental: a dimension that skipped an update uses its own collection time",
			dims: "DIMENSION a a incremental\nDIMENSION b b absolute\n",
			updates: []string{
				update(0, "a = 0", "b = 1"),
				update(1000000, "b = 2"),
				update(1000000, "a = 100", "b = 3"),
			},
			want: []map[string]float64{{"b": 1}, {"b": 2}, {"a": 50, "b": 3}},
		},
		{
			name: "incremental 32-bit wrap",
			dims: "DIMENSION a a incremental\n",
			updates: []string{
				update(0, "a = 4294967290"),
				update(1000000, "a = 10"),
			},
			want: []map[string]float64{{"a": 16}},
		},
		{
			name: "incremental 63-bit wrap",
			dims: "DIMENSION a a incremental\n",
			updates: []string{
				update(0, "a = 9223372036854775800"),
				update(1000000, "a = 2"),
			},
			want: []map[string]float64{{"a": 10}},
		},
		{
			name: "incremental reset gives no value, then counts from the new value",
			dims: "DIMENSION a a incremental\nDIMENSION b b absolute\n",
			updates: []string{
				update(0, "a = 1000", "b = 1"),
				update(1000000, "a = 10", "b = 2"),
				update(1000000, "a = 30", "b = 3"),
			},
			want: []map[string]float64{{"b": 1}, {"b": 2}, {"a": 20, "b": 3}},
		},
		{
			name: "incremental decrease through negative values is a reset",
			dims: "DIMENSION a a incremental\n",
			updates: []string{
				update(0, "a = 5"),
				update(1000000, "a = -5"),
				update(1000000, "a = 0"),
			},
			want: []map[string]float64{{"a": 5}},
		},
		{
			name: "percentage-of-absolute-row ignores multiplier and divisor, sums updated dimensions of any algorithm",
			dims: "DIMENSION a a percentage-of-absolute-row 10 3\nDIMENSION b b percentage-of-absolute-row\nDIMENSION c c absolute\n",
			updates: []string{
				update(0, "a = 1", "b = 3"),
				update(1000000, "a = 1", "b = 1", "c = 2"),
				update(1000000, "a = 0", "b = 0"),
			},
			want: []map[string]float64{{"a": 25, "b": 75}, {"a": 25, "b": 25, "c": 2}, {"a": 0, "b": 0}},
		},
		{
			name: "percentage-of-incremental-row",
			dims: "DIMENSION a a percentage-of-incremental-row 5 7\nDIMENSION b b percentage-of-incremental-row\n",
			updates: []string{
				update(0, "a = 10", "b = 10"),
				update(1000000, "a = 20", "b = 40"),
				update(3000000, "a = 20", "b = 40"),
			},
			want: []map[string]float64{{"a": 25, "b": 75}, {"a": 0, "b": 0}},
		},
		{
			name:    "hidden dimensions are still stored",
			dims:    "DIMENSION a a absolute 1 1 'hidden '\nDIMENSION b b absolute 1 1 ' '\n",
			updates: []string{update(0, "a = 1", "b = 2")},
			want:    []map[string]float64{{"a": 1, "b": 2}},
		},
		{
			name:    "empty SET value is not collected; no value at all gives no point",
			dims:    "DIMENSION a\nDIMENSION b\n",
			updates: []string{update(0, "a =", "b = ''"), update(0, "a = 1", "b =")},
			want:    []map[string]float64{{"a": 1}},
		},
		{
			name:    "unknown algorithm is absolute, the last SET of a dimension wins",
			dims:    "DIMENSION a a counter 2 1\n",
			updates: []string{update(0, "a = 1", "a = 4")},
			want:    []map[string]float64{{"a": 8}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{})
			pts, errs := feedAll(e, append([]string{chart + tt.dims}, tt.updates...)...)
			require.Empty(t, errs)
			assert.Equal(t, tt.want, fieldsOf(pts))
		})
	}
}

func TestCounterDelta(t *testing.T) {
	tests := []struct {
		last, collected int64
		want            float64
		ok              bool
	}{
		{0, 0, 0, true},
		{1, 5, 4, true},
		{math.MinInt64, math.MaxInt64, math.MaxUint64, true},
		{math.MaxUint32, 0, 1, true},
		{math.MaxUint32 - 9, 10, 20, true},
		{1 << 31, 0, 0, false}, // exactly half the cap: implausible
		{1<<31 + 1, 0, 1<<31 - 1, true},
		{100, 5, 0, false},
		{math.MaxInt64, 0, 1, true},
		{1 << 40, 5, 0, false},
		{5, -1, 0, false},
		{-1, -5, 0, false},
	}
	for _, tt := range tests {
		got, ok := counterDelta(tt.last, tt.collected)
		assert.Equal(t, tt.ok, ok, "%d -> %d", tt.last, tt.collected)
		assert.Equal(t, tt.want, got, "%d -> %d", tt.last, tt.collected)
	}
}
