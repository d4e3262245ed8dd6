package constraint

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

var t0 = time.Unix(1624550216, 0).UTC()

// tags builds tags from key, value pairs.
func tags(kv ...string) []point.Tag {
	out := make([]point.Tag, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, point.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func fl(key string, v point.Value) point.Field { return point.Field{Key: key, Value: v} }

func fields(fs ...point.Field) []point.Field { return fs }

func pt(name string, ts []point.Tag, fs []point.Field) point.Point {
	return point.Point{Name: name, Tags: ts, Fields: fs, Time: t0}
}

func warn(code point.WarningCode, key, msg string) point.Warning {
	return point.Warning{Code: code, Point: -1, Key: key, Message: msg}
}

// ruleCase is one row of a rule table: a point of a category in, and the
// exact point and warnings out, or the exact rejection.
type ruleCase struct {
	name   string
	cat    point.Category
	opts   Options
	in     point.Point
	want   point.Point
	warns  []point.Warning
	reject *RejectError
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cat := tc.cat
			if cat == point.CategoryUnknown {
				cat = point.Metric
			}
			orig := tc.in.Clone()
			p := tc.in
			warns, err := New(tc.opts).Normalize(&p, cat)
			checkOwned(t, New(tc.opts), tc.in, cat, p, warns, err)
			assert.True(t, orig.Equal(tc.in), "the input's slices were written to: %v", tc.in)
			if tc.reject != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrRejected)
				var re *RejectError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.reject, re)
				assert.Nil(t, warns)
				assert.True(t, orig.Equal(p), "a rejected point was changed: %v", p)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
			assert.Equal(t, tc.warns, warns)

			again := p
			warns, err = New(tc.opts).Normalize(&again, cat)
			require.NoError(t, err)
			assert.Empty(t, warns, "second Normalize is not a no-op")
			assert.Equal(t, p, again)
		})
	}
}

// sentinel is a warning NormalizeOwned must leave in place at the start of
// its dst.
var sentinel = point.Warning{Code: point.WarnUnknown, Point: 7, Key: "sentinel"}

// checkOwned checks that NormalizeOwned, on a copy of in that it owns,
// gives the point, warnings and error that Normalize gave (p, warns, err),
// appending the warnings after what dst already holds.
func checkOwned(t *testing.T, n *Normalizer, in point.Point, c point.Category, p point.Point, warns []point.Warning, err error) {
	t.Helper()
	q := in.Clone()
	dst := append(make([]point.Warning, 0, 4), sentinel)
	got, gotErr := n.NormalizeOwned(&q, c, dst)
	require.NotEmpty(t, got, "dst dropped")
	assert.Equal(t, sentinel, got[0], "dst overwritten")
	if err != nil {
		assert.Equal(t, err, gotErr, "owned mode errs differently")
		assert.Len(t, got, 1, "warnings appended for a rejected point")
		return
	}
	require.NoError(t, gotErr, "owned mode errs, copy-on-write did not")
	assert.True(t, p.Equal(q), "owned mode gives %v, copy-on-write %v", q, p)
	assert.Equal(t, p.Tags == nil, q.Tags == nil, "tags nil-ness")
	assert.Equal(t, p.Fields == nil, q.Fields == nil, "fields nil-ness")
	if len(warns) == 0 {
		assert.Len(t, got, 1, "owned mode warns, copy-on-write did not")
	} else {
		assert.Equal(t, warns, got[1:], "owned mode warns differently")
	}
}
