package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The shared corpus: testdata/decode.json holds bodies and the points,
// errors and warnings they decode to; testdata/encode.json holds points and
// their canonical encodings. Points are written as
// {"name", "tags": [[k, v]...], "fields": [[k, kind, value]...], "time"},
// where kind is f, i, u, s, b, d (bytes) or invalid, value is text, and
// time is nanoseconds since 1970 or "now" (Options.Now).

type corpusPoint struct {
	Name   string      `json:"name"`
	Tags   [][2]string `json:"tags"`
	Fields [][3]string `json:"fields"`
	Time   string      `json:"time"`
}

type corpusError struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Element int    `json:"element"`
	Key     string `json:"key"`
	Is      string `json:"is"`
}

type corpusWarning struct {
	Code  string `json:"code"`
	Point int    `json:"point"`
	Key   string `json:"key"`
}

type decodeCase struct {
	Name    string `json:"name"`
	Format  string `json:"format"`
	Body    string `json:"body"`
	Options struct {
		Precision string `json:"precision"`
		KeepValid bool   `json:"keep_valid"`
		ExactInts bool   `json:"exact_ints"`
		MaxErrors int    `json:"max_errors"`
	} `json:"options"`
	Points    []corpusPoint   `json:"points"`
	Errors    []corpusError   `json:"errors"`
	Valid     int             `json:"valid"`
	Truncated bool            `json:"truncated"`
	Warnings  []corpusWarning `json:"warnings"`
}

type encodeCase struct {
	Name      string      `json:"name"`
	Point     corpusPoint `json:"point"`
	Precision string      `json:"precision"`
	LP        *string     `json:"lp"`
	JSON      *string     `json:"json"`
	Err       string      `json:"err"`
}

// corpusNow is Options.Now in corpus cases.
var corpusNow = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

var sentinels = map[string]error{
	"ErrSyntax":      protocol.ErrSyntax,
	"ErrNotArray":    protocol.ErrNotArray,
	"ErrInvalidName": protocol.ErrInvalidName,
	"ErrInvalidKey":  protocol.ErrInvalidKey,
	"ErrTagType":     protocol.ErrTagType,
	"ErrFieldType":   protocol.ErrFieldType,
	"ErrNoFields":    protocol.ErrNoFields,
	"ErrTimeRange":   protocol.ErrTimeRange,
	"ErrNonFinite":   protocol.ErrNonFinite,
	"ErrInvalidUTF8": protocol.ErrInvalidUTF8,
}

func loadCorpus[T any](t testing.TB, name string) []T {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	var cases []T
	require.NoError(t, json.Unmarshal(data, &cases), "testdata/%s", name)
	require.NotEmpty(t, cases)
	return cases
}

func (c corpusPoint) point(t testing.TB) point.Point {
	t.Helper()
	p := point.Point{Name: c.Name}
	for _, tg := range c.Tags {
		p.Tags = append(p.Tags, point.Tag{Key: tg[0], Value: tg[1]})
	}
	for _, f := range c.Fields {
		p.Fields = append(p.Fields, point.Field{Key: f[0], Value: corpusValue(t, f[1], f[2])})
	}
	if c.Time == "now" {
		p.Time = corpusNow
	} else {
		ns, err := strconv.ParseInt(c.Time, 10, 64)
		require.NoError(t, err, "corpus time %q", c.Time)
		p.Time = time.Unix(0, ns)
	}
	return p
}

func corpusValue(t testing.TB, kind, text string) point.Value {
	t.Helper()
	var (
		v   point.Value
		err error
	)
	switch kind {
	case "f":
		var f float64
		f, err = strconv.ParseFloat(text, 64)
		v = point.FloatValue(f)
	case "i":
		var i int64
		i, err = strconv.ParseInt(text, 10, 64)
		v = point.IntValue(i)
	case "u":
		var u uint64
		u, err = strconv.ParseUint(text, 10, 64)
		v = point.UintValue(u)
	case "b":
		var b bool
		b, err = strconv.ParseBool(text)
		v = point.BoolValue(b)
	case "s":
		v = point.StringValue(text)
	case "d":
		v = point.BytesValue([]byte(text))
	case "invalid":
	default:
		t.Fatalf("corpus: unknown kind %q", kind)
	}
	require.NoError(t, err, "corpus value %s:%q", kind, text)
	return v
}

func (c *decodeCase) options(t testing.TB) protocol.Options {
	prec, err := protocol.ParsePrecision(c.Options.Precision)
	require.NoError(t, err)
	return protocol.Options{Precision: prec, Now: corpusNow, KeepValid: c.Options.KeepValid, ExactInts: c.Options.ExactInts, MaxErrors: c.Options.MaxErrors}
}

func decodeBody(d *protocol.Decoder, format string, body []byte, opts protocol.Options) ([]point.Point, []point.Warning, error) {
	if format == "json" {
		return d.DecodeJSON(body, opts)
	}
	pts, err := d.DecodeLineProtocol(body, opts)
	return pts, nil, err
}

// assertPoints compares points field by field, times by instant.
func assertPoints(t *testing.T, want, got []point.Point) {
	t.Helper()
	if !assert.Len(t, got, len(want)) {
		return
	}
	for i := range want {
		if !want[i].Equal(got[i]) {
			t.Errorf("point %d:\nwant %v (%d)\n got %v (%d)", i, want[i], want[i].Time.UnixNano(), got[i], got[i].Time.UnixNano())
			for j := 0; j < len(want[i].Fields) && j < len(got[i].Fields); j++ {
				w, g := want[i].Fields[j].Value, got[i].Fields[j].Value
				if !w.Equal(g) {
					t.Errorf("  field %d: want %s %v, got %s %v", j, w.Kind(), w, g.Kind(), g)
				}
			}
		}
	}
}

func TestDecodeCorpus(t *testing.T) {
	var d protocol.Decoder // one Decoder for every case: reuse must not leak state
	for _, c := range loadCorpus[decodeCase](t, "decode.json") {
		t.Run(c.Name, func(t *testing.T) {
			pts, warns, err := decodeBody(&d, c.Format, []byte(c.Body), c.options(t))
			var want []point.Point
			for _, p := range c.Points {
				want = append(want, p.point(t))
			}
			assertPoints(t, want, pts)

			if len(c.Errors) == 0 {
				require.NoError(t, err)
			} else {
				var des *protocol.DecodeErrors
				require.ErrorAs(t, err, &des)
				assert.Equal(t, c.Valid, des.Valid, "Valid")
				assert.Equal(t, c.Truncated, des.Truncated, "Truncated")
				require.Len(t, des.Errors, len(c.Errors), "errors: %v", err)
				for i, we := range c.Errors {
					ge := des.Errors[i]
					assert.Equal(t, we.Line, ge.Line, "error %d line: %v", i, ge)
					assert.Equal(t, we.Column, ge.Column, "error %d column: %v", i, ge)
					assert.Equal(t, we.Element, ge.Element, "error %d element: %v", i, ge)
					assert.Equal(t, we.Key, ge.Key, "error %d key: %v", i, ge)
					if we.Is != "" {
						require.Contains(t, sentinels, we.Is)
						assert.ErrorIs(t, ge, sentinels[we.Is], "error %d", i)
						assert.ErrorIs(t, err, sentinels[we.Is], "DecodeErrors unwraps to error %d", i)
					}
				}
			}

			require.Len(t, warns, len(c.Warnings), "warnings: %v", warns)
			for i, w := range c.Warnings {
				assert.Equal(t, w.Code, warns[i].Code.String())
				assert.Equal(t, w.Point, warns[i].Point)
				assert.Equal(t, w.Key, warns[i].Key)
			}
		})
	}
}

func TestEncodeCorpus(t *testing.T) {
	for _, c := range loadCorpus[encodeCase](t, "encode.json") {
		t.Run(c.Name, func(t *testing.T) {
			prec, err := protocol.ParsePrecision(c.Precision)
			require.NoError(t, err)
			p := c.Point.point(t)
			if c.Point.Time == "now" {
				p.Time = time.Time{}
			}
			le := protocol.LineEncoder{Precision: prec}
			je := protocol.JSONEncoder{Precision: prec}
			prefix := []byte("prefix\n")

			lp, lerr := le.Append(prefix, p)
			js, jerr := je.Append(prefix, []point.Point{p})
			if c.Err != "" {
				var ee *protocol.EncodeError
				require.ErrorAs(t, lerr, &ee)
				assert.ErrorIs(t, lerr, sentinels[c.Err])
				assert.Equal(t, "prefix\n", string(lp), "dst unchanged on error")
			} else {
				require.NoError(t, lerr)
				require.NotNil(t, c.LP)
				assert.Equal(t, "prefix\n"+*c.LP, string(lp))
			}
			if c.JSON != nil {
				require.NoError(t, jerr)
				assert.Equal(t, "prefix\n"+*c.JSON, string(js))
				assert.True(t, json.Valid(js[len(prefix):]), "strict JSON")
			} else {
				var ee *protocol.EncodeError
				require.ErrorAs(t, jerr, &ee)
				assert.ErrorIs(t, jerr, sentinels[c.Err])
				assert.Equal(t, "prefix\n", string(js), "dst unchanged on error")
			}
		})
	}
}

// TestRoundTripCorpus encodes every point of the decode corpus and decodes
// it again.
func TestRoundTripCorpus(t *testing.T) {
	var d protocol.Decoder
	for _, c := range loadCorpus[decodeCase](t, "decode.json") {
		if len(c.Points) == 0 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			for i, cp := range c.Points {
				p := cp.point(t)
				assertRoundTrip(t, &d, p, fmt.Sprintf("point %d", i))
			}
		})
	}
}

// assertRoundTrip checks decode(encode(p)) == canonical(p) for both
// formats, or that the encoder refused p for a documented reason. It
// reports which formats encoded p.
func assertRoundTrip(t *testing.T, d *protocol.Decoder, p point.Point, msg string) (lpOK, jsonOK bool) {
	t.Helper()
	opts := protocol.Options{Precision: protocol.Nanosecond, Now: corpusNow, ExactInts: true}
	var le protocol.LineEncoder
	line, err := le.Append(nil, p)
	if err != nil {
		assert.True(t, encodeRefusalExpected(p, true), "%s: %v refused: %v", msg, p, err)
	} else {
		lpOK = true
		assert.False(t, encodeRefusalExpected(p, true), "%s: encoded although it should not: %q", msg, line)
		got, err := d.DecodeLineProtocol(line, opts)
		require.NoError(t, err, "%s: %q", msg, line)
		require.Len(t, got, 1, "%s: %q", msg, line)
		want := canonical(p, true)
		assert.True(t, want.Equal(got[0]), "%s: LP %q\nwant %v\n got %v", msg, line, want, got[0])
	}
	var je protocol.JSONEncoder
	body, err := je.Append(nil, []point.Point{p})
	if err != nil {
		assert.True(t, encodeRefusalExpected(p, false), "%s: %v refused: %v", msg, p, err)
		return lpOK, false
	}
	assert.False(t, encodeRefusalExpected(p, false), "%s: encoded although it should not: %s", msg, body)
	got, warns, err := d.DecodeJSON(body, opts)
	require.NoError(t, err, "%s: %s", msg, body)
	if canonical(p, false).Time.Before(time.Unix(0, 0)) {
		// A time before 1970 round-trips, with its warning.
		require.Len(t, warns, 1, "%s: %s", msg, body)
		assert.Equal(t, point.WarnNegativeTime, warns[0].Code)
	} else {
		assert.Empty(t, warns)
	}
	require.Len(t, got, 1, "%s: %s", msg, body)
	want := canonical(p, false)
	assert.True(t, want.Equal(got[0]), "%s: JSON %s\nwant %v\n got %v", msg, body, want, got[0])
	return lpOK, true
}

// canonical is what decoding an encoded p gives: tags and fields sorted by
// key (stably), bytes as strings, no time (or the Unix epoch, written as
// 0) replaced by the decoder's Now; for
// line protocol empty tag values dropped, for JSON unsigned integers that
// fit int64 as ints.
func canonical(p point.Point, lp bool) point.Point {
	q := point.Point{Name: p.Name, Time: p.Time}
	if q.Time.IsZero() || q.Time.Equal(time.Unix(0, 0)) { // written as 0, which means now
		q.Time = corpusNow
	}
	for _, tg := range p.Tags {
		if lp && tg.Value == "" {
			continue
		}
		q.Tags = append(q.Tags, tg)
	}
	for _, f := range p.Fields {
		v := f.Value
		switch {
		case v.Kind() == point.KindBytes:
			v = point.StringValue(v.Str())
		case !lp && v.Kind() == point.KindUint && v.Uint() <= math.MaxInt64:
			v = point.IntValue(int64(v.Uint()))
		}
		q.Fields = append(q.Fields, point.Field{Key: f.Key, Value: v})
	}
	slices.SortStableFunc(q.Tags, func(a, b point.Tag) int { return strings.Compare(a.Key, b.Key) })
	slices.SortStableFunc(q.Fields, func(a, b point.Field) int { return strings.Compare(a.Key, b.Key) })
	return q
}

// encodeRefusalExpected reports whether p has something the encoders
// document they cannot write.
func encodeRefusalExpected(p point.Point, lp bool) bool {
	if p.Name == "" || len(p.Fields) == 0 {
		return true
	}
	if !utf8.ValidString(p.Name) {
		return true
	}
	for _, tg := range p.Tags {
		if lp && tg.Value == "" {
			continue // left out of line protocol unchecked
		}
		if !utf8.ValidString(tg.Key) || !utf8.ValidString(tg.Value) {
			return true
		}
	}
	for _, f := range p.Fields {
		v := f.Value
		switch {
		case !utf8.ValidString(f.Key),
			v.Kind() == point.KindInvalid,
			v.Kind() == point.KindFloat && (math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)),
			(v.Kind() == point.KindString || v.Kind() == point.KindBytes) && !utf8.ValidString(v.Str()):
			return true
		}
	}
	return lp && errors.Is(lineProblem(p), errUnencodable)
}

var errUnencodable = errors.New("unencodable in line protocol")

// lineProblem reports the line-protocol-only restrictions: names, keys and
// tag values without control characters or a trailing backslash, names
// not starting with '#'.
func lineProblem(p point.Point) error {
	bad := func(s string) bool {
		return s == "" || strings.HasSuffix(s, `\`) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
	}
	if bad(p.Name) || strings.HasPrefix(p.Name, "#") {
		return errUnencodable
	}
	for _, tg := range p.Tags {
		if tg.Value != "" && (bad(tg.Key) || bad(tg.Value)) {
			return errUnencodable
		}
	}
	for _, f := range p.Fields {
		if bad(f.Key) {
			return errUnencodable
		}
	}
	return nil
}
