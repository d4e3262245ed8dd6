package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The fuzz targets check that decoding never panics, that errors are well
// formed, and that every decoded point survives encode -> decode
// unchanged (up to the documented canonical form). Seeds: the corpus
// bodies plus testdata/fuzz/<target>/.

func FuzzDecodeLineProtocol(f *testing.F) {
	for _, c := range loadCorpus[decodeCase](f, "decode.json") {
		if c.Format == "lp" {
			f.Add([]byte(c.Body))
		}
	}
	var d, d2 protocol.Decoder
	f.Fuzz(func(t *testing.T, body []byte) {
		pts, err := d.DecodeLineProtocol(body, protocol.Options{KeepValid: true, Now: corpusNow, MaxErrors: -1})
		checkDecodeErrors(t, err, len(pts), false)
		for _, p := range pts {
			lpOK, _ := assertRoundTrip(t, &d2, p, "decoded point")
			assert.True(t, lpOK, "a point decoded from line protocol must encode to line protocol: %v", p)
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, c := range loadCorpus[decodeCase](f, "decode.json") {
		if c.Format == "json" {
			f.Add([]byte(c.Body), c.Options.ExactInts)
		}
	}
	var d, d2 protocol.Decoder
	f.Fuzz(func(t *testing.T, body []byte, exactInts bool) {
		pts, warns, err := d.DecodeJSON(body, protocol.Options{KeepValid: true, ExactInts: exactInts, Now: corpusNow, MaxErrors: -1})
		checkDecodeErrors(t, err, len(pts), true)
		for _, w := range warns {
			assert.Equal(t, point.WarnNilField, w.Code)
			assert.GreaterOrEqual(t, w.Point, 0)
		}
		for _, p := range pts {
			assertRoundTrip(t, &d2, p, "decoded point")
		}
	})
}

func checkDecodeErrors(t *testing.T, err error, valid int, isJSON bool) {
	t.Helper()
	if err == nil {
		return
	}
	var des *protocol.DecodeErrors
	require.ErrorAs(t, err, &des)
	assert.Equal(t, valid, des.Valid)
	assert.NotEmpty(t, des.Errors)
	assert.False(t, des.Truncated, "MaxErrors is unlimited")
	for _, e := range des.Errors {
		assert.NotEmpty(t, e.Error())
		if isJSON {
			assert.Zero(t, e.Line)
			assert.GreaterOrEqual(t, e.Element, -1)
		} else {
			assert.GreaterOrEqual(t, e.Line, 1, "%v", e)
			assert.GreaterOrEqual(t, e.Column, 1, "%v", e)
			assert.Equal(t, -1, e.Element)
		}
	}
}
