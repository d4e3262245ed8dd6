package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/protocol"
)

func TestDecoderSource(t *testing.T) {
	var d protocol.Decoder
	body := []byte("# comment\n\ncpu v=1\nbad line\nm\\ e,t=1 v=2 1700000000\n\"quoted\",x=1 v=3\n")
	pts, err := d.DecodeLineProtocol(body, protocol.Options{KeepValid: true})
	require.Error(t, err)
	require.Len(t, pts, 3)
	for i, want := range []int{3, 5, 6} {
		line, elem := d.Source(i)
		assert.Equal(t, want, line, "point %d", i)
		assert.Equal(t, -1, elem)
	}
	var de *protocol.DecodeErrors
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 1, de.Invalid)

	pts, _, err = d.DecodeJSON([]byte(`[{"measurement":"a","fields":{"v":1}},{"measurement":"b","tags":{"t":1},"fields":{"v":1}},{"measurement":"c","fields":{"v":1}}]`), protocol.Options{KeepValid: true})
	require.Error(t, err)
	require.Len(t, pts, 2)
	line, elem := d.Source(1)
	assert.Equal(t, 0, line)
	assert.Equal(t, 2, elem)
	line, elem = d.Source(7)
	assert.Equal(t, 0, line)
	assert.Equal(t, -1, elem)
}

func TestDecodeErrorsCountsBeyondMaxErrors(t *testing.T) {
	var d protocol.Decoder
	body := []byte("ok v=1\n")
	for i := 0; i < 150; i++ {
		body = append(body, "bad\n"...)
	}
	_, err := d.DecodeLineProtocol(body, protocol.Options{KeepValid: true})
	var de *protocol.DecodeErrors
	require.ErrorAs(t, err, &de)
	assert.Len(t, de.Errors, 100)
	assert.True(t, de.Truncated)
	assert.Equal(t, 150, de.Invalid)
	assert.Equal(t, 1, de.Valid)
}
