package constraint

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

func TestNormalizeInvalidCategory(t *testing.T) {
	p := pt("m", nil, fields(fl("f", point.IntValue(1))))
	_, err := Normalize(&p, point.CategoryUnknown, Options{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrRejected)
	assert.Contains(t, err.Error(), "invalid category")
}

func TestNormalizeCompliantDoesNotAllocate(t *testing.T) {
	// Field keys get an "f" prefix so that they do not clash with the tags.
	prefixed := func(fs []point.Field) []point.Field {
		for i := range fs {
			fs[i].Key = "f" + fs[i].Key
		}
		return fs
	}
	reversed := func(fs []point.Field) []point.Field { slices.Reverse(fs); return fs }
	tests := []struct {
		name string
		cat  point.Category
		p    point.Point
	}{
		{"typical metric", point.Metric, benchCompliant()},
		{"logging", point.Logging, pt("l", tags("host", "a"), fields(fl("message", point.StringValue("m")), fl("status", point.StringValue("info"))))},
		{"object", point.Object, pt("o", tags("name", "a", "class", "host"), fields(fl("cpu", point.IntValue(4))))},
		{"100 sorted fields", point.Metric, pt("m", manyTags(10), prefixed(manyFields(100, false)))},
		{"100 unsorted fields", point.Metric, pt("m", manyTags(10), prefixed(manyFields(100, true)))},
		{"1024 unsorted fields and 256 tags", point.Metric, pt("m", manyTags(256), reversed(prefixed(manyFields(1024, false))))},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(20, func() {
				q := tc.p
				warns, err := n.Normalize(&q, tc.cat)
				if err != nil || warns != nil {
					t.Fatalf("not compliant: %v %v", warns, err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}

func TestNormalizeLargePoints(t *testing.T) {
	// Beyond the stack table (1024 keys) the checks use a map; with
	// unlimited counts they still find duplicates and conflicts.
	opts := Options{Limits: Limits{MaxTags: -1, MaxFields: -1}}
	fs := manyFields(1500, true)
	ts := manyTags(1100)
	tests := []struct {
		name  string
		in    point.Point
		want  point.Point
		codes []point.WarningCode
	}{
		{"no problem", pt("m", nil, fs), pt("m", nil, fs), nil},
		{"duplicate field", pt("m", nil, append(slices.Clip(fs), fl("k0007", point.IntValue(1)))), pt("m", nil, fs), []point.WarningCode{point.WarnKeyNameConflict}},
		{"tag and field conflict", pt("m", ts, append([]point.Field{fl("k1099", point.IntValue(1))}, fs[:1]...)), pt("m", ts, fs[:1]), []point.WarningCode{point.WarnKeyNameConflict}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.in
			warns, err := Normalize(&p, point.Metric, opts)
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(p))
			var codes []point.WarningCode
			for _, w := range warns {
				codes = append(codes, w.Code)
			}
			assert.Equal(t, tc.codes, codes)
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"ascii", "abcdef", 4, "abcd"},
		{"before a 2-byte rune", "abcé", 4, "abc"},
		{"before a 4-byte rune", "ab😀", 5, "ab"},
		{"whole rune at the end", "ab😀c", 6, "ab😀"},
		{"stray continuation bytes", "ab\x80\x80\x80\x80\x80", 5, "ab\x80\x80\x80"},
		{"truncated lead", "abcd\xe4\xb8", 5, "abcd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, truncate(tc.in, tc.max))
		})
	}
}

func TestNormalizeFuncCompliantDoesNotAllocate(t *testing.T) {
	in := benchCompliant()
	allocs := testing.AllocsPerRun(50, func() {
		q := in
		if warns, err := Normalize(&q, point.Metric, Options{}); err != nil || warns != nil {
			t.Fatalf("not compliant: %v %v", warns, err)
		}
	})
	assert.Zero(t, allocs)
}

func TestNormalizeOwnedDoesNotAllocate(t *testing.T) {
	// Each point is rebuilt from a template before every run (the copy is
	// made outside the measured function's allocations: the arrays are
	// reused), as a decoder hands out fresh points.
	tests := []struct {
		name  string
		cat   point.Category
		p     point.Point
		warns int
	}{
		{"compliant metric", point.Metric, benchCompliant(), 0},
		{"metric with a string field", point.Metric, benchMetricString(), 1},
		{"metric with string, bytes, nil, NaN and Inf fields", point.Metric, pt("m", tags("host", "a"),
			fields(fl("a", point.StringValue("x")), fl("b", point.IntValue(1)), fl("c", point.BytesValue([]byte("y"))),
				fl("d", point.Value{}), fl("e", point.FloatValue(nan())), fl("f", point.FloatValue(inf(-1))))), 5},
		{"logging without status", point.Logging, pt("l", tags("host", "a"), fields(fl("message", point.StringValue("m")), fl("n", point.IntValue(1)))), 1},
		{"logging with a nil status", point.Logging, pt("l", tags("host", "a"), fields(fl("message", point.StringValue("m")), fl("status", point.Value{}))), 2},
		{"logging with a duplicate field", point.Logging, pt("l", nil, fields(fl("message", point.StringValue("m")), fl("status", point.StringValue("ok")), fl("message", point.StringValue("n")))), 1},
		{"conflicting tag and field", point.Metric, pt("m", tags("host", "a"), fields(fl("host", point.IntValue(1)), fl("n", point.IntValue(1)))), 1},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tagsBuf := make([]point.Tag, len(tc.p.Tags), len(tc.p.Tags)+1)
			fieldsBuf := make([]point.Field, len(tc.p.Fields), len(tc.p.Fields)+1)
			dst := make([]point.Warning, 0, 8)
			var warns []point.Warning
			allocs := testing.AllocsPerRun(50, func() {
				copy(tagsBuf, tc.p.Tags)
				copy(fieldsBuf, tc.p.Fields)
				q := tc.p
				q.Tags, q.Fields = tagsBuf[:len(tc.p.Tags)], fieldsBuf[:len(tc.p.Fields)]
				var err error
				if warns, err = n.NormalizeOwned(&q, tc.cat, dst[:0]); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
			assert.Len(t, warns, tc.warns)
		})
	}
}

func TestNormalizeOwnedInvalidCategory(t *testing.T) {
	p := pt("m", nil, fields(fl("f", point.IntValue(1))))
	dst := []point.Warning{sentinel}
	got, err := New(Options{}).NormalizeOwned(&p, point.CategoryUnknown, dst)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid category")
	assert.Equal(t, dst, got)
}

func TestCategoriesFitPlans(t *testing.T) {
	for _, c := range point.Categories() {
		assert.Less(t, int(c), maxCategories, "raise maxCategories for %s", c)
	}
}

func TestScanFindsNonASCIIProblems(t *testing.T) {
	// The word-at-a-time scan must see a '.' or an invalid byte at every
	// position of keys and values of every length up to 17 bytes.
	n := New(Options{})
	for size := 1; size <= 17; size++ {
		for pos := range size {
			for _, bad := range []byte{'.', 0xff} {
				b := []byte(strings.Repeat("k", size))
				b[pos] = bad
				s := string(b)
				for _, p := range []point.Point{
					pt("m", tags(s, "v"), fields(fl("f", point.IntValue(1)))),
					pt("m", nil, fields(fl(s, point.IntValue(1)))),
					pt("m", tags("t", s), fields(fl("f", point.IntValue(1)))),
					pt("m", nil, fields(fl("f", point.StringValue(s)))),
					pt(s, nil, fields(fl("f", point.IntValue(1)))),
				} {
					want := n.compliant(&p, point.Logging)
					got := n.scan(&p, &n.plans[point.Logging]) == 0
					require.Equal(t, want, got, "size %d, %q at %d: %v", size, bad, pos, p)
				}
			}
		}
	}
}
