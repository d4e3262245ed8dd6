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
