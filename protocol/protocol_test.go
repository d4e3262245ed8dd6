package protocol_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testbody"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

func TestParsePrecision(t *testing.T) {
	tests := []struct {
		in   string
		want protocol.Precision
		dur  time.Duration
	}{
		{"", protocol.PrecisionAuto, 0},
		{"auto", protocol.PrecisionAuto, 0},
		{"n", protocol.Nanosecond, time.Nanosecond},
		{"ns", protocol.Nanosecond, time.Nanosecond},
		{"u", protocol.Microsecond, time.Microsecond},
		{"us", protocol.Microsecond, time.Microsecond},
		{"µ", protocol.Microsecond, time.Microsecond},
		{"µs", protocol.Microsecond, time.Microsecond},
		{"ms", protocol.Millisecond, time.Millisecond},
		{"s", protocol.Second, time.Second},
		{"m", protocol.Minute, time.Minute},
		{"h", protocol.Hour, time.Hour},
	}
	for _, tt := range tests {
		t.Run("in="+tt.in, func(t *testing.T) {
			got, err := protocol.ParsePrecision(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.dur, got.Duration())

			text, err := got.MarshalText()
			require.NoError(t, err)
			var back protocol.Precision
			require.NoError(t, back.UnmarshalText(text))
			assert.Equal(t, got, back, "String/MarshalText form %q parses back", text)
			assert.Equal(t, string(text), got.String())
		})
	}
}

func TestParsePrecisionUnknown(t *testing.T) {
	for _, in := range []string{"x", "NS", "d", "1s", " ms", "nanosecond"} {
		t.Run(in, func(t *testing.T) {
			_, err := protocol.ParsePrecision(in)
			require.ErrorIs(t, err, protocol.ErrUnknownPrecision)
			assert.Contains(t, err.Error(), `"`+in+`"`, "the error names the value")
			var p protocol.Precision
			assert.ErrorIs(t, p.UnmarshalText([]byte(in)), protocol.ErrUnknownPrecision)
		})
	}
	_, err := protocol.Precision(200).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "Precision(200)", protocol.Precision(200).String())
	assert.Zero(t, protocol.Precision(200).Duration())
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"lp", &protocol.DecodeError{Line: 3, Column: 14, Element: -1, Err: protocol.ErrSyntax}, "protocol: at line 3:14: syntax error"},
		{"lp-key", &protocol.DecodeError{Line: 1, Column: 5, Element: -1, Key: "f", Err: protocol.ErrSyntax}, `protocol: at line 1:5, key "f": syntax error`},
		{"json", &protocol.DecodeError{Element: 2, Key: "k", Err: protocol.ErrTagType}, `protocol: element 2, key "k": tag value is not a string`},
		{"json-body", &protocol.DecodeError{Element: -1, Err: protocol.ErrNotArray}, "protocol: body: JSON body is not an array of points"},
		{"encode", &protocol.EncodeError{Key: "f", Err: protocol.ErrNonFinite}, `protocol: cannot encode point, key "f": NaN or infinite float value`},
		{"errors", &protocol.DecodeErrors{Valid: 4, Errors: []*protocol.DecodeError{{Line: 2, Column: 1, Element: -1, Err: protocol.ErrSyntax}}},
			"protocol: 1 bad entry (4 valid)\n\tprotocol: at line 2:1: syntax error"},
		{"errors-truncated", &protocol.DecodeErrors{Truncated: true, Errors: []*protocol.DecodeError{{Element: 0, Err: protocol.ErrNoFields}}},
			"protocol: 1 or more bad entries (0 valid)\n\tprotocol: element 0: point has no fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestJSONEncoderErrorNamesPoint(t *testing.T) {
	var e protocol.JSONEncoder
	pts := []point.Point{
		{Name: "ok", Fields: []point.Field{{Key: "f", Value: point.IntValue(1)}}},
		{Name: "bad", Fields: []point.Field{{Key: "f", Value: point.FloatValue(posInf())}}},
	}
	out, err := e.Append([]byte("x"), pts)
	var ee *protocol.EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "f", ee.Key)
	assert.Equal(t, `protocol: cannot encode point 1, key "f": NaN or infinite float value`, err.Error())
	assert.Equal(t, "x", string(out))
}

func posInf() float64 { return 1 / zero }

var zero float64

// TestDecoderReuse checks the aliasing contract: points are valid until the
// next call, their slices are capped so that appending to one point does
// not overwrite the next, and Clone detaches them.
func TestDecoderReuse(t *testing.T) {
	var d protocol.Decoder
	opts := protocol.Options{Now: time.Unix(1, 0)}
	pts, err := d.DecodeLineProtocol([]byte("a\\ x,t=1 f=\"e\\\"s\" 1\nb,t=2 f=2i 2\n"), opts)
	require.NoError(t, err)
	require.Len(t, pts, 2)
	kept := pts[0].Clone()

	pts[0].Tags = append(pts[0].Tags, point.Tag{Key: "added", Value: "x"})
	pts[0].Fields = append(pts[0].Fields, point.Field{Key: "added", Value: point.IntValue(9)})
	assert.Equal(t, []point.Tag{{Key: "t", Value: "2"}}, pts[1].Tags, "appending to point 0 must not touch point 1")
	assert.Equal(t, "f", pts[1].Fields[0].Key)

	// A second body overwrites the decoder's buffers (the escaped name and
	// string lived in its arena) but not the clone.
	_, err = d.DecodeLineProtocol([]byte("zzzzzz,t=9 f=\"zzzzzzz\" 3\n"), opts)
	require.NoError(t, err)
	assert.Equal(t, "a x", kept.Name)
	assert.Equal(t, `e"s`, kept.Fields[0].Value.Str())
}

func TestDecodeKeepValid(t *testing.T) {
	body := []byte("m f=1i 1\nbad\nm f=2i 2\n")
	var d protocol.Decoder

	pts, err := d.DecodeLineProtocol(body, protocol.Options{})
	assert.Nil(t, pts, "DataKit's default: one bad line rejects the body")
	var des *protocol.DecodeErrors
	require.ErrorAs(t, err, &des)
	assert.Equal(t, 2, des.Valid)

	pts, err = d.DecodeLineProtocol(body, protocol.Options{KeepValid: true})
	require.ErrorAs(t, err, &des)
	assert.Len(t, pts, 2)
	assert.Equal(t, 2, des.Valid)
}

func TestDecodeMaxErrors(t *testing.T) {
	body := []byte(strings.Repeat("bad\n", 150))
	var d protocol.Decoder
	tests := []struct {
		name      string
		max       int
		want      int
		truncated bool
	}{
		{"default-100", 0, 100, true},
		{"unlimited", -1, 150, false},
		{"three", 3, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.DecodeLineProtocol(body, protocol.Options{MaxErrors: tt.max})
			var des *protocol.DecodeErrors
			require.ErrorAs(t, err, &des)
			assert.Len(t, des.Errors, tt.want)
			assert.Equal(t, tt.truncated, des.Truncated)
			assert.Equal(t, tt.want, des.Errors[tt.want-1].Line, "every bad line is reported with its number")
		})
	}
}

func TestDecodeNowDefault(t *testing.T) {
	var d protocol.Decoder
	before := time.Now()
	pts, err := d.DecodeLineProtocol([]byte("m f=1\n"), protocol.Options{})
	require.NoError(t, err)
	require.Len(t, pts, 1)
	assert.False(t, pts[0].Time.Before(before), "no timestamp and no Options.Now: the time of the call")
	assert.False(t, pts[0].Time.After(time.Now()))

	jpts, _, err := d.DecodeJSON([]byte(`[{"measurement":"m","fields":{"f":1}}]`), protocol.Options{})
	require.NoError(t, err)
	require.Len(t, jpts, 1)
	assert.False(t, jpts[0].Time.Before(before))
}

// TestJSONInvalidUTF8 covers what the JSON corpus file cannot hold.
func TestJSONInvalidUTF8(t *testing.T) {
	var d protocol.Decoder
	tests := []struct {
		name string
		body string
	}{
		{"raw", "[{\"measurement\":\"m\",\"fields\":{\"f\":\"a\xffb\"}}]"},
		{"raw-with-escape", "[{\"measurement\":\"m\",\"fields\":{\"f\":\"\\n\xc3\"}}]"},
		{"key", "[{\"measurement\":\"m\",\"fields\":{\"\xe2\x82\":1}}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := d.DecodeJSON([]byte(tt.body), protocol.Options{})
			assert.ErrorIs(t, err, protocol.ErrInvalidUTF8)
		})
	}
}

// TestDecodeAllocations checks the memory claim: once a Decoder's buffers
// have grown, decoding a 10,000-line body allocates a handful of objects,
// not one per line.
func TestDecodeAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes the 1 MB test body many times")
	}
	lp, js := testbody.LineProtocol(), testbody.JSON()
	var d protocol.Decoder
	opts := protocol.Options{Now: time.Unix(1, 0)}
	lpAllocs := testing.AllocsPerRun(5, func() {
		if _, err := d.DecodeLineProtocol(lp, opts); err != nil {
			t.Fatal(err)
		}
	})
	jsonAllocs := testing.AllocsPerRun(5, func() {
		if _, _, err := d.DecodeJSON(js, opts); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per 10,000-line body: line protocol %v, JSON %v", lpAllocs, jsonAllocs)
	assert.LessOrEqual(t, lpAllocs, 2.0, "line protocol: allocations per body")
	assert.LessOrEqual(t, jsonAllocs, 2.0, "JSON: allocations per body")
}

func TestEncodeErrorsAreTyped(t *testing.T) {
	var e protocol.LineEncoder
	_, err := e.Append(nil, point.Point{Name: "m", Fields: []point.Field{{Key: "f", Value: point.StringValue("\xff")}}})
	var ee *protocol.EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "f", ee.Key)
	assert.True(t, errors.Is(err, protocol.ErrInvalidUTF8))

	_, err = e.Append(nil, point.Point{Name: "m", Fields: []point.Field{{Key: "f", Value: point.IntValue(1)}}, Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.ErrorIs(t, err, protocol.ErrTimeRange)
}

// TestIntegerEdges pins the integer parsing at the edges of its fast path
// against what strconv accepts.
func TestIntegerEdges(t *testing.T) {
	tests := []struct {
		name, body string
		want       point.Value
		bad        bool
	}{
		{"max-int", "m f=9223372036854775807i", point.IntValue(9223372036854775807), false},
		{"min-int", "m f=-9223372036854775808i", point.IntValue(-9223372036854775808), false},
		{"int-over", "m f=9223372036854775808i", point.Value{}, true},
		{"int-under", "m f=-9223372036854775809i", point.Value{}, true},
		{"int-19-nines", "m f=9999999999999999999i", point.Value{}, true},
		{"int-leading-zeros", "m f=00000000000000000000001i", point.IntValue(1), false},
		{"max-uint", "m f=18446744073709551615u", point.UintValue(18446744073709551615), false},
		{"uint-over", "m f=18446744073709551616u", point.Value{}, true},
		{"uint-19-nines", "m f=9999999999999999999u", point.UintValue(9999999999999999999), false},
		{"minus-only", "m f=-i", point.Value{}, true},
		{"negative-uint", "m f=-1u", point.Value{}, true},
	}
	var d protocol.Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts, err := d.DecodeLineProtocol([]byte(tt.body), protocol.Options{})
			if tt.bad {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Len(t, pts, 1)
			assert.True(t, tt.want.Equal(pts[0].Fields[0].Value), "got %v", pts[0].Fields[0].Value)
		})
	}
}

// TestFloatParsing checks the fast float path against strconv on the
// forms both formats produce.
func TestFloatParsing(t *testing.T) {
	inputs := []string{"0", "-0", "0.0", "-0.0", "1", "46.45", "-3.25", ".5", "-.5", "5.", "0.1", "0.3",
		"123456789012345", "1234567890123456", "12345678901234567890", "0.000000000000001", "0.0000000000000001",
		"99999999999999.9", "1e3", "1.5E-7", "179769313486231570000000000000000000000", "4.9e-324", "3.14159265358979"}
	var d protocol.Decoder
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			want, err := strconv.ParseFloat(in, 64)
			require.NoError(t, err)
			pts, err := d.DecodeLineProtocol([]byte("m f="+in), protocol.Options{})
			require.NoError(t, err)
			assert.Equal(t, math.Float64bits(want), math.Float64bits(pts[0].Fields[0].Value.Float()), "line protocol")
			if strings.HasPrefix(in, ".") || strings.HasPrefix(in, "-.") || strings.HasSuffix(in, ".") {
				return // not JSON numbers
			}
			jpts, _, err := d.DecodeJSON([]byte(`[{"measurement":"m","fields":{"f":`+in+`}}]`), protocol.Options{})
			require.NoError(t, err)
			assert.Equal(t, math.Float64bits(want), math.Float64bits(jpts[0].Fields[0].Value.Float()), "JSON")
		})
	}
}

// TestTestbodyBodiesAgree: testbody's two bodies hold the same points, so
// the LP and JSON benchmarks measure the same work.
func TestTestbodyBodiesAgree(t *testing.T) {
	var dl, dj protocol.Decoder
	opts := protocol.Options{ExactInts: true, Now: time.Unix(1, 0)}
	lp, err := dl.DecodeLineProtocol(testbody.LineProtocol(), opts)
	require.NoError(t, err)
	js, warns, err := dj.DecodeJSON(testbody.JSON(), opts)
	require.NoError(t, err)
	assert.Empty(t, warns)
	require.Len(t, lp, testbody.Lines)
	require.Len(t, js, testbody.Lines)
	escaped := 0
	for i := range lp {
		require.True(t, lp[i].Equal(js[i]), "point %d:\n LP   %v\n JSON %v", i, lp[i], js[i])
		if v, _ := lp[i].Tag("host"); strings.ContainsAny(v, " ,=") {
			escaped++
		}
	}
	assert.Equal(t, testbody.Lines/100, escaped, "one point in 100 has escapes")
}
