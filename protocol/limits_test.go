package protocol_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testbody"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// TestJSONDuplicateKeysFirstWins: a repeated "measurement" (or "time")
// resolves like repeated tag and field keys do, to the first.
func TestJSONDuplicateKeysFirstWins(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
		time time.Time
	}{
		{name: "measurement", body: `[{"measurement":"first","measurement":"second","fields":{"v":1}}]`, want: "first", time: corpusNow},
		{name: "measurement null then string", body: `[{"measurement":null,"measurement":"second","fields":{"v":1}}]`, want: "", time: corpusNow},
		{name: "time", body: `[{"measurement":"m","time":1700000000,"time":1800000000,"fields":{"v":1}}]`, want: "m", time: time.Unix(1700000000, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d protocol.Decoder
			pts, _, err := d.DecodeJSON([]byte(tt.body), protocol.Options{Now: corpusNow})
			require.NoError(t, err)
			require.Len(t, pts, 1)
			assert.Equal(t, tt.want, pts[0].Name)
			assert.True(t, tt.time.Equal(pts[0].Time), "time %v, want %v", pts[0].Time, tt.time)
		})
	}
}

// TestNegativeTimeWarning: a time before 1970 is kept and warned about, in
// both formats, with the index of its point (line protocol) or element
// (JSON).
func TestNegativeTimeWarning(t *testing.T) {
	var d protocol.Decoder
	pts, err := d.DecodeLineProtocol([]byte("a v=1 1\nb v=1 -1000000000\n"), protocol.Options{Precision: protocol.Nanosecond})
	require.NoError(t, err)
	require.Len(t, pts, 2)
	assert.Equal(t, int64(-1000000000), pts[1].Time.UnixNano())
	warns := d.Warnings()
	require.Len(t, warns, 1)
	assert.Equal(t, point.WarnNegativeTime, warns[0].Code)
	assert.Equal(t, 1, warns[0].Point)
	assert.Contains(t, warns[0].Message, "-1000000000")

	pts, warns, err = d.DecodeJSON([]byte(`[{"measurement":"a","fields":{"v":1},"time":5},{"measurement":"b","fields":{"v":1},"time":-5.5}]`), protocol.Options{Precision: protocol.Second})
	require.NoError(t, err)
	require.Len(t, pts, 2)
	assert.Equal(t, int64(-5500000000), pts[1].Time.UnixNano())
	require.Len(t, warns, 1)
	assert.Equal(t, point.WarnNegativeTime, warns[0].Code)
	assert.Equal(t, 1, warns[0].Point)

	// A body rejected as a whole has no warnings either.
	_, err = d.DecodeLineProtocol([]byte("a v=1 -1\nbad\n"), protocol.Options{})
	require.Error(t, err)
	assert.Empty(t, d.Warnings())
}

// TestMaxPoints: over Options.MaxPoints, decoding stops with
// ErrTooManyPoints and returns nothing, in both formats and with
// KeepValid too. Blank and comment lines do not count.
func TestMaxPoints(t *testing.T) {
	lp := []byte(strings.Repeat("a v=1i\n", 10))
	js := []byte("[" + strings.TrimSuffix(strings.Repeat(`{"fields":{"v":1}},`, 10), ",") + "]")
	tests := []struct {
		name string
		max  int
		keep bool
		json bool
		body []byte
		ok   bool
	}{
		{name: "lp at the limit", max: 10, body: lp, ok: true},
		{name: "lp over", max: 9, body: lp},
		{name: "lp over, keep valid", max: 9, keep: true, body: lp},
		{name: "lp comments do not count", max: 10, body: append([]byte("# c\n\n\n"), lp...), ok: true},
		{name: "lp bad lines count", max: 10, keep: true, body: append([]byte("bad\n"), lp...)},
		{name: "json at the limit", max: 10, json: true, body: js, ok: true},
		{name: "json over", max: 9, json: true, body: js},
		{name: "json no limit", max: 0, json: true, body: js, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d protocol.Decoder
			opts := protocol.Options{MaxPoints: tt.max, KeepValid: tt.keep}
			var pts []point.Point
			var err error
			if tt.json {
				pts, _, err = d.DecodeJSON(tt.body, opts)
			} else {
				pts, err = d.DecodeLineProtocol(tt.body, opts)
			}
			if tt.ok {
				require.NoError(t, err)
				assert.Len(t, pts, 10)
				return
			}
			require.ErrorIs(t, err, protocol.ErrTooManyPoints)
			assert.Empty(t, pts)
		})
	}
}

// TestRetainedBytes: the figure grows with the body a Decoder has seen, so
// that a pool can drop a Decoder that a large body made large.
func TestRetainedBytes(t *testing.T) {
	var d protocol.Decoder
	assert.Zero(t, d.RetainedBytes())
	_, err := d.DecodeLineProtocol([]byte("a v=1i\n"), protocol.Options{})
	require.NoError(t, err)
	small := d.RetainedBytes()
	_, err = d.DecodeLineProtocol(testbody.LineProtocol(), protocol.Options{})
	require.NoError(t, err)
	assert.Greater(t, d.RetainedBytes(), 100*small)
	assert.Greater(t, d.RetainedBytes(), 10000*88, "at least the 10,000 points")
}
