package protocol_test

import (
	"bytes"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// Real clients: bodies written by Python's json module and by the
// python3-influxdb client's line-protocol writer, and Python reading what
// our JSON encoder writes. They run the system interpreter, where Debian's
// client packages are installed.
func runPython(t *testing.T, script string, stdin []byte) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), testkit.Python(t), "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python: %s", stderr.String())
	return out
}

func TestDecodeJSONFromPython(t *testing.T) {
	const script = `
import json, sys
pts = [
    {"measurement": "py", "tags": {"host": "h\u00e9", "quote": "a\"b"},
     "fields": {"i": 42, "big": 2**63 + 5, "neg": -7, "f": 0.1, "whole": 3.0, "nan": float("nan"),
                "inf": float("inf"), "ninf": float("-inf"), "s": "\U0001F600 \u4e2d\n\t\\", "t": True,
                "no": False, "none": None},
     "time": 1700000000},
    {"measurement": "py2", "fields": {"x": 1}, "time": None, "extra": {"nested": [1, 2, {"a": None}]}},
]
for kw in ({}, {"indent": 2}, {"ensure_ascii": False}, {"separators": (",", ":")}):
    sys.stdout.write(json.dumps(pts, **kw) + "\x00")
`
	out := runPython(t, script, nil)
	bodies := bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0})
	require.Len(t, bodies, 4)
	now := time.Unix(5, 0)
	for i, body := range bodies {
		var d protocol.Decoder
		pts, warns, err := d.DecodeJSON(body, protocol.Options{ExactInts: true, Now: now})
		require.NoError(t, err, "body %d: %s", i, body)
		require.Len(t, pts, 2, "body %d", i)
		p := pts[0]
		assert.Equal(t, "py", p.Name)
		assert.Equal(t, []point.Tag{{Key: "host", Value: "hé"}, {Key: "quote", Value: `a"b`}}, p.Tags)
		assert.Equal(t, time.Unix(1700000000, 0), p.Time, "seconds detected by magnitude")
		want := map[string]point.Value{
			"i": point.IntValue(42), "big": point.UintValue(1<<63 + 5), "neg": point.IntValue(-7),
			"f": point.FloatValue(0.1), "whole": point.FloatValue(3), "nan": point.FloatValue(math.NaN()),
			"inf": point.FloatValue(math.Inf(1)), "ninf": point.FloatValue(math.Inf(-1)),
			"s": point.StringValue("😀 中\n\t\\"), "t": point.BoolValue(true), "no": point.BoolValue(false),
		}
		require.Len(t, p.Fields, len(want), "body %d: %v", i, p)
		for _, f := range p.Fields {
			assert.True(t, want[f.Key].Equal(f.Value), "body %d field %s: got %s %v", i, f.Key, f.Value.Kind(), f.Value)
		}
		require.Len(t, warns, 1)
		assert.Equal(t, point.Warning{Code: point.WarnNilField, Point: 0, Key: "none", Message: warns[0].Message}, warns[0])
		assert.Equal(t, "py2", pts[1].Name)
		assert.Equal(t, now, pts[1].Time, "time None means now")
	}
}

func TestDecodeLineProtocolFromInfluxDBClient(t *testing.T) {
	testkit.Python(t, "influxdb")
	const script = `
import sys
from influxdb.line_protocol import make_lines
pts = {"points": [
    {"measurement": "m x,y", "tags": {"t k": "v,=1", "region": "eu"},
     "fields": {"f": 1.5, "i": 3, "s": "a\"b\\c\nd", "b": True, "whole": 3.0, "big": 2**63 - 1},
     "time": 1700000000123456789},
    {"measurement": "cpu", "tags": {"host": "h\u00e9"}, "fields": {"usage": 0.25}},
]}
sys.stdout.write(make_lines(pts))
sys.stdout.write(make_lines({"points": [{"measurement": "s", "fields": {"v": 1}, "time": 1700000000}]}, precision="s"))
`
	body := runPython(t, script, nil)
	now := time.Unix(7, 0)
	var d protocol.Decoder
	pts, err := d.DecodeLineProtocol(body, protocol.Options{Now: now})
	require.NoError(t, err, "%s", body)
	require.Len(t, pts, 3, "%s", body)

	assert.Equal(t, "m x,y", pts[0].Name)
	assert.Equal(t, []point.Tag{{Key: "region", Value: "eu"}, {Key: "t k", Value: "v,=1"}}, pts[0].Tags)
	want := map[string]point.Value{
		"f": point.FloatValue(1.5), "i": point.IntValue(3), "s": point.StringValue("a\"b\\c\nd"),
		"b": point.BoolValue(true), "whole": point.FloatValue(3), "big": point.IntValue(math.MaxInt64),
	}
	require.Len(t, pts[0].Fields, len(want))
	for _, f := range pts[0].Fields {
		assert.True(t, want[f.Key].Equal(f.Value), "field %s: got %s %v", f.Key, f.Value.Kind(), f.Value)
	}
	assert.Equal(t, int64(1700000000123456789), pts[0].Time.UnixNano())
	assert.Equal(t, "hé", pts[1].Tags[0].Value)
	assert.Equal(t, now, pts[1].Time)
	assert.Equal(t, time.Unix(1700000000, 0), pts[2].Time, "precision auto-detected as seconds")
}

// TestPythonReadsJSONEncoder: Python's strict json.loads reads what
// JSONEncoder writes, with the same values and kinds.
func TestPythonReadsJSONEncoder(t *testing.T) {
	p := point.New("m \"q\"", time.Unix(1700000000, 5))
	p.AddTag("k", "é\n\x01").AddTag("a", "1")
	p.AddField("f", point.FloatValue(3)).AddField("i", point.IntValue(-4)).AddField("u", point.UintValue(math.MaxUint64)).
		AddField("s", point.StringValue("😀\\\"")).AddField("b", point.BoolValue(true)).AddField("tiny", point.FloatValue(1e-300))
	var e protocol.JSONEncoder
	body, err := e.Append(nil, []point.Point{p})
	require.NoError(t, err)
	const script = `
import json, sys
pts = json.loads(sys.stdin.read(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
p = pts[0]
print(repr(p["measurement"]), sorted(p["tags"].items()), p["time"])
for k in sorted(p["fields"]):
    v = p["fields"][k]
    print(k, type(v).__name__, repr(v))
`
	out := runPython(t, script, body)
	assert.Equal(t, `'m "q"' [('a', '1'), ('k', 'é\n\x01')] 1700000000000000005
b bool True
f float 3.0
i int -4
s str '😀\\"'
tiny float 1e-300
u int 18446744073709551615
`, string(out))
}
