package testbody_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testbody"
)

func TestLineProtocolShape(t *testing.T) {
	body := testbody.LineProtocol()
	assert.Equal(t, testbody.Lines, bytes.Count(body, []byte{'\n'}), "one line per point")
	assert.InDelta(t, 1<<20, len(body), 300<<10, "about 1 MB")
	assert.Equal(t, body, testbody.LineProtocol(), "deterministic")
	assert.Contains(t, string(body), `host=web\ 01\,rack\=3`, "escaped tags present")
}

func TestJSONShape(t *testing.T) {
	body := testbody.JSON()
	var pts []struct {
		Measurement string            `json:"measurement"`
		Tags        map[string]string `json:"tags"`
		Fields      map[string]any    `json:"fields"`
		Time        int64             `json:"time"`
	}
	require.NoError(t, json.Unmarshal(body, &pts))
	require.Len(t, pts, testbody.Lines)
	assert.Equal(t, "cpu", pts[0].Measurement)
	assert.Equal(t, int64(1700000000000000000), pts[0].Time)
	assert.Equal(t, "web 01,rack=3", pts[42].Tags["host"])
	assert.Contains(t, pts[42].Fields["note"], "café ✓")
	assert.Equal(t, body, testbody.JSON(), "deterministic")
}

func ExampleLineProtocol() {
	body := testbody.LineProtocol()
	fmt.Println(bytes.Count(body, []byte("\ncpu,")) + 1)
	// Output:
	// 1667
}
