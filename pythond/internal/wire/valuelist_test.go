package wire

import (
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/protocol"
)

// pyMarshal returns marshal.dumps(eval(expr), 2) from a real python3.
func pyMarshal(t testing.TB, expr string) []byte {
	t.Helper()
	python := interpreters(t)[0]
	out, err := exec.Command(python, "-c", "import marshal, sys; sys.stdout.buffer.write(marshal.dumps("+expr+", 2))").Output()
	require.NoError(t, err)
	return out
}

func testTypesDB(t testing.TB) *collectd.TypesDB {
	db, err := collectd.ParseTypesDB(strings.NewReader(
		"gauge value:GAUGE:U:U\nderive value:DERIVE:0:U\ncounter value:COUNTER:U:U\nabsolute value:ABSOLUTE:0:U\nif_octets rx:DERIVE:0:U, tx:DERIVE:0:U\n"), "types.db")
	require.NoError(t, err)
	return db
}

func TestValueListDecode(t *testing.T) {
	db := testTypesDB(t)
	payload := pyMarshal(t, `[
		("h", "cpu", "0", "gauge", "user", 1700000000.25, 10.0, [1.5]),
		("h", "net", "", "if_octets", "", 1700000001.0, 2.0, [7, -3]),
		("h", "c", "", "counter", "", 1700000002.0, 2.0, [2**64 - 1]),
		("h", "a", "", "absolute", "", 1700000003.0, 2.0, (5,)),
		("h", "g", "", "gauge", "", 1700000004.0, 2.0, [3]),
		("h", "d", "", "derive", "", 1700000005.0, 2.0, [7.9]),
		("h", "u", "", "unknown", "", 1700000006.0, 2.0, [1, 2.5]),
		("h", "n", "", "gauge", "", 1700000007.0, 2.0, [float("nan")]),
	]`)
	var vd ValueListDecoder
	vls, err := vd.Decode(payload, db)
	require.NoError(t, err)
	require.Len(t, vls, 8)
	assert.Equal(t, collectd.ValueList{Host: "h", Plugin: "cpu", PluginInstance: "0", Type: "gauge", TypeInstance: "user",
		Time: time.Unix(1700000000, 250000000), Interval: 10 * time.Second, Values: []collectd.Value{collectd.GaugeValue(1.5)}}, vls[0])
	assert.Equal(t, []collectd.Value{collectd.DeriveValue(7), collectd.DeriveValue(-3)}, vls[1].Values)
	assert.Equal(t, []collectd.Value{collectd.CounterValue(math.MaxUint64)}, vls[2].Values)
	assert.Equal(t, []collectd.Value{collectd.AbsoluteValue(5)}, vls[3].Values)
	assert.Equal(t, []collectd.Value{collectd.GaugeValue(3)}, vls[4].Values)
	assert.Equal(t, []collectd.Value{collectd.DeriveValue(7)}, vls[5].Values)
	assert.Equal(t, []collectd.Value{collectd.DeriveValue(1), collectd.GaugeValue(2.5)}, vls[6].Values)
	assert.True(t, math.IsNaN(vls[7].Values[0].F))
	assert.Equal(t, 2*time.Second, vls[1].Interval)
}

func TestValueListDecodeErrors(t *testing.T) {
	db := testTypesDB(t)
	payload := pyMarshal(t, `[
		("h", "ok", "", "gauge", "", 1.0, 1.0, [1.0]),
		("h", "short", "", "gauge"),
		"not a tuple",
		("h", "neg", "", "counter", "", 1.0, 1.0, [-1]),
		("h", "big", "", "derive", "", 1.0, 1.0, [2**63]),
		("h", "str", "", "gauge", "", 1.0, 1.0, ["x"]),
		(1, "host", "", "gauge", "", 1.0, 1.0, [1.0]),
		("h", "time", "", "gauge", "", "now", 1.0, [1.0]),
		("h", "ok2", "", "gauge", "", 1.0, 1.0, [2.0]),
	]`)
	var vd ValueListDecoder
	vls, err := vd.Decode(payload, db)
	require.Error(t, err)
	require.Len(t, vls, 2)
	assert.Equal(t, "ok", vls[0].Plugin)
	assert.Equal(t, "ok2", vls[1].Plugin)
	var elems []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var de *protocol.DecodeError
		require.ErrorAs(t, e, &de)
		elems = append(elems, de.Element)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, elems)

	_, err = vd.Decode(payload[:len(payload)-3], db)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "malformed payload")
	_, err = vd.Decode(nil, db)
	require.Error(t, err)
}

func FuzzValueListDecode(f *testing.F) {
	f.Add(pyMarshal(f, `[("h", "p", "", "gauge", "", 1.0, 1.0, [1.0]), ("h", "p", "", "if_octets", "", 1, 1, [1, 2])]`))
	db := testTypesDB(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var vd ValueListDecoder
		vls, _ := vd.Decode(b, db)
		for _, vl := range vls {
			if vl.Interval < 0 {
				t.Fatalf("negative interval %v", vl.Interval)
			}
		}
	})
}

func BenchmarkValueListDecode(b *testing.B) {
	payload := pyMarshal(b, `[("myhost", "cpu", str(i), "if_octets", "", 1700000000.5, 10.0, [i, i * 2]) for i in range(1000)]`)
	db := testTypesDB(b)
	var vd ValueListDecoder
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := vd.Decode(payload, db); err != nil {
			b.Fatal(err)
		}
	}
}
