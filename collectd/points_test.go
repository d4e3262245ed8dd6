package collectd

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testDB(t testing.TB) *TypesDB {
	t.Helper()
	db, err := ParseTypesDB(strings.NewReader(`
gauge      value:GAUGE:U:U
derive     value:DERIVE:0:U
counter    value:COUNTER:U:U
absolute   value:ABSOLUTE:0:U
if_octets  rx:DERIVE:0:U, tx:DERIVE:0:U
load       shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000
`), "test.db")
	require.NoError(t, err)
	return db
}

func TestAppendPoints(t *testing.T) {
	db := testDB(t)
	ts := time.Unix(1700000000, 500_000_000)
	tests := []struct {
		name string
		vl   ValueList
		want []point.Point
	}{
		{
			name: "if_octets",
			vl: ValueList{Host: "h", Plugin: "interface", PluginInstance: "eth0", Type: "if_octets", Time: ts,
				Interval: 10 * time.Second, Values: []Value{DeriveValue(1), DeriveValue(-2)}},
			want: []point.Point{{Name: "interface",
				Tags:   []point.Tag{{Key: "host", Value: "h"}, {Key: "plugin_instance", Value: "eth0"}, {Key: "type", Value: "if_octets"}},
				Fields: []point.Field{{Key: "rx", Value: point.IntValue(1)}, {Key: "tx", Value: point.IntValue(-2)}},
				Time:   ts}},
		},
		{
			name: "load with a NaN",
			vl: ValueList{Host: "h", Plugin: "load", Type: "load", Time: ts,
				Values: []Value{GaugeValue(0.5), GaugeValue(math.NaN()), GaugeValue(1.5)}},
			want: []point.Point{{Name: "load",
				Tags:   []point.Tag{{Key: "host", Value: "h"}, {Key: "type", Value: "load"}},
				Fields: []point.Field{{Key: "shortterm", Value: point.FloatValue(0.5)}, {Key: "longterm", Value: point.FloatValue(1.5)}},
				Time:   ts}},
		},
		{
			name: "counter and absolute as uint, all tags",
			vl: ValueList{Host: "h", Plugin: "p", PluginInstance: "pi", Type: "counter", TypeInstance: "ti",
				Values: []Value{CounterValue(math.MaxUint64)}},
			want: []point.Point{{Name: "p",
				Tags: []point.Tag{{Key: "host", Value: "h"}, {Key: "plugin_instance", Value: "pi"},
					{Key: "type", Value: "counter"}, {Key: "type_instance", Value: "ti"}},
				Fields: []point.Field{{Key: "value", Value: point.UintValue(math.MaxUint64)}}}},
		},
		{
			name: "absolute",
			vl:   ValueList{Plugin: "p", Type: "absolute", Values: []Value{AbsoluteValue(7)}},
			want: []point.Point{{Name: "p", Tags: []point.Tag{{Key: "type", Value: "absolute"}},
				Fields: []point.Field{{Key: "value", Value: point.UintValue(7)}}}},
		},
		{
			name: "only NaN: no point",
			vl:   ValueList{Plugin: "p", Type: "gauge", Values: []Value{GaugeValue(math.NaN())}},
		},
		{
			name: "DSNames without types.db",
			vl: ValueList{Plugin: "p", Type: "my_own", DSNames: []string{"a", "b"},
				Values: []Value{GaugeValue(1), DeriveValue(2)}},
			want: []point.Point{{Name: "p", Tags: []point.Tag{{Key: "type", Value: "my_own"}},
				Fields: []point.Field{{Key: "a", Value: point.FloatValue(1)}, {Key: "b", Value: point.IntValue(2)}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendPoints(nil, db, tt.vl)
			require.NoError(t, err)
			require.Len(t, got, len(tt.want))
			for i := range got {
				assert.True(t, tt.want[i].Equal(got[i]), "got %v\nwant %v", got[i], tt.want[i])
			}
		})
	}
}

func TestAppendPointsErrors(t *testing.T) {
	db := testDB(t)
	prev := []point.Point{{Name: "kept"}}
	vls := []ValueList{
		{Host: "h", Plugin: "p", PluginInstance: "i", Type: "nosuch", TypeInstance: "t", Values: []Value{GaugeValue(1)}},
		{Host: "h", Plugin: "ok", Type: "gauge", Values: []Value{GaugeValue(1)}},
		{Host: "h", Plugin: "p", Type: "if_octets", Values: []Value{DeriveValue(1)}},
		{Host: "h", Plugin: "p", Type: "x", DSNames: []string{"a"}, Values: []Value{GaugeValue(1), GaugeValue(2)}},
	}
	got, err := AppendPoints(prev, db, vls...)
	require.Error(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "kept", got[0].Name)
	assert.Equal(t, "ok", got[1].Name)
	msg := err.Error()
	assert.Contains(t, msg, `h/p-i/nosuch-t: type "nosuch" not in types.db`)
	assert.Contains(t, msg, `h/p/if_octets: type "if_octets" has 2 data sources, got 1 values`)
	assert.Contains(t, msg, "h/p/x: 1 data source names, 2 values")

	// A nil TypesDB knows no type.
	_, err = AppendPoints(nil, nil, ValueList{Plugin: "p", Type: "gauge", Values: []Value{GaugeValue(1)}})
	assert.ErrorContains(t, err, `type "gauge" not in types.db`)
}

func TestNotificationPoint(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	for _, tt := range []struct {
		sev  Severity
		want string
	}{{Failure, "error"}, {Warning, "warning"}, {Okay, "ok"}, {0, "info"}} {
		p := NotificationPoint(Notification{Host: "h", Plugin: "p", Type: "gauge", TypeInstance: "ti",
			Time: ts, Severity: tt.sev, Message: "hi"})
		want := point.Point{Name: "p",
			Tags: []point.Tag{{Key: "host", Value: "h"}, {Key: "type", Value: "gauge"}, {Key: "type_instance", Value: "ti"}},
			Fields: []point.Field{
				{Key: "df_status", Value: point.StringValue(tt.want)},
				{Key: "df_message", Value: point.StringValue("hi")},
				{Key: "df_title", Value: point.StringValue("hi")},
				{Key: "df_source", Value: point.StringValue("system")},
			}, Time: ts}
		assert.True(t, want.Equal(p), "%v: got %v", tt.sev, p)
	}
}

func TestIdentifier(t *testing.T) {
	vl := ValueList{Host: "h", Plugin: "p", Type: "t"}
	assert.Equal(t, "h/p/t", vl.Identifier())
	n := Notification{Host: "h", Plugin: "p", PluginInstance: "1", Type: "t", TypeInstance: "x"}
	assert.Equal(t, "h/p-1/t-x", n.Identifier())
}

// Points share backing arrays, but appending to one never changes another.
func TestAppendPointsIndependent(t *testing.T) {
	db := testDB(t)
	pts, err := AppendPoints(nil, db,
		ValueList{Host: "a", Plugin: "p", Type: "gauge", Values: []Value{GaugeValue(1)}},
		ValueList{Host: "b", Plugin: "q", Type: "gauge", Values: []Value{GaugeValue(2)}})
	require.NoError(t, err)
	require.Len(t, pts, 2)
	pts[0].AddTag("x", "y").AddField("f", point.IntValue(3))
	assert.Equal(t, "q,host=b,type=gauge value=2", pts[1].String())
}
