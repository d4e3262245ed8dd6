package collectd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// A body that collectd 5.12's write_http sent (StoreRates false) for the
// value lists testdata/write_http_plugin.py dispatches.
func TestDecodeJSONRealValues(t *testing.T) {
	vls, notifs, err := DecodeJSON(readTestdata(t, "write_http_values.json"))
	require.NoError(t, err)
	assert.Empty(t, notifs)
	require.Len(t, vls, 18)

	byID := map[string]ValueList{}
	for _, vl := range vls[:8] {
		byID[vl.Identifier()] = vl
		assert.Equal(t, time.Unix(1796185793, 366_000_000), vl.Time, "exact milliseconds")
		assert.Equal(t, time.Second, vl.Interval)
		assert.Equal(t, "testhost", vl.Host)
	}
	ifo := byID["testhost/pyplug-pi/if_octets"]
	assert.Equal(t, []Value{DeriveValue(123), DeriveValue(456)}, ifo.Values)
	assert.Equal(t, []string{"rx", "tx"}, ifo.DSNames)
	assert.Equal(t, []Value{CounterValue(math.MaxUint64)}, byID["testhost/pyplug/counter"].Values)
	assert.Equal(t, []Value{AbsoluteValue(42)}, byID["testhost/pyplug/absolute"].Values)
	assert.Equal(t, []Value{DeriveValue(math.MinInt64)}, byID[`testhost/pyplug/derive-neg "quote"\`].Values)
	assert.Equal(t, []Value{GaugeValue(0.5), GaugeValue(1e300), GaugeValue(-2.25)}, byID["testhost/pyplug/load"].Values, "meta is ignored")
	assert.Equal(t, []Value{GaugeValue(1e-300)}, byID["testhost/pyplug/gauge-unicod?? ???"].Values, "collectd writes non-ASCII bytes as ?")
	for _, id := range []string{"testhost/pyplug/gauge-nan", "testhost/pyplug/gauge-inf"} {
		v := byID[id].Values
		require.Len(t, v, 1, id)
		assert.Equal(t, Gauge, v[0].Type)
		assert.True(t, math.IsNaN(v[0].F), "%s: collectd writes null for a NaN or infinite gauge", id)
	}

	// The mapping needs no TypesDB: write_http names the data sources.
	pts, err := AppendPoints(nil, nil, vls...)
	require.NoError(t, err)
	assert.Len(t, pts, 14, "the NaN and infinite gauges give no point")
	assert.Equal(t, "pyplug", pts[0].Name)
	f, ok := pts[0].Field("midterm")
	require.True(t, ok)
	assert.Equal(t, 1e300, f.Float())

	vls, _, err = DecodeJSON(readTestdata(t, "write_http_flush.json"))
	require.NoError(t, err)
	assert.Len(t, vls, 9)
}

// With StoreRates true, write_http sends rates for cumulative sources
// (null for the first reading).
func TestDecodeJSONRealRates(t *testing.T) {
	vls, _, err := DecodeJSON(readTestdata(t, "write_http_rates.json"))
	require.NoError(t, err)
	var rates []Value
	for _, vl := range vls {
		if vl.Type == "if_octets" {
			rates = append(rates, vl.Values...)
		}
	}
	require.GreaterOrEqual(t, len(rates), 4)
	assert.True(t, math.IsNaN(rates[0].F) && rates[0].Type == Gauge, "first rate unknown")
	assert.Equal(t, Gauge, rates[2].Type)
	assert.InDelta(t, 123, rates[2].F, 1)
	assert.Equal(t, DeriveValue(0), rates[3], "an integral rate stays an integer")
}

func TestDecodeJSONRealNotifications(t *testing.T) {
	tests := []struct {
		file string
		want Notification
	}{
		{"write_http_notif_warning.json", Notification{Host: "testhost", Plugin: "pyplug", PluginInstance: "pi",
			Type: "temperature", TypeInstance: "ti", Severity: Warning, Message: "hello \"world\"\n",
			Time: time.Date(2026, 12, 2, 4, 29, 53, 366167106, time.UTC)}},
		{"write_http_notif_failure.json", Notification{Host: "testhost", Plugin: "pyplug", PluginInstance: "x",
			Type: "gauge", Severity: Failure, Message: "fail",
			Time: time.Date(2026, 12, 2, 4, 29, 53, 368908926, time.UTC)}},
		{"write_http_notif_okay.json", Notification{Host: "testhost", Plugin: "pyplug",
			Type: "gauge", Severity: Okay, Message: "ok",
			Time: time.Date(2026, 12, 2, 4, 29, 53, 369943833, time.UTC)}},
		{"write_http_notif_unknown.json", Notification{Host: "testhost", Plugin: "pyplug",
			Type: "gauge", Severity: 0, Message: "odd severity",
			Time: time.Date(2026, 12, 2, 4, 29, 53, 370811571, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			vls, notifs, err := DecodeJSON(readTestdata(t, tt.file))
			require.NoError(t, err)
			assert.Empty(t, vls)
			require.Len(t, notifs, 1)
			n := notifs[0]
			assert.True(t, tt.want.Time.Equal(n.Time), "time %v", n.Time)
			n.Time = tt.want.Time
			assert.Equal(t, tt.want, n)
		})
	}
}

func TestDecodeJSONNotificationShapes(t *testing.T) {
	body := `[
{"labels":{"alertname":"collectd_my_plugin_if_octets","instance":"h","severity":"OKAY","service":"collectd"}},
{"labels":{"alertname":"collectd_my_plugin_if_octets","instance":"h","my_plugin":"eth0","severity":"OKAY"}},
{"labels":{"alertname":"collectd_p","instance":"h"},"annotations":null,"startsAt":null}
]`
	_, ns, err := DecodeJSON([]byte(body))
	require.NoError(t, err)
	require.Len(t, ns, 3)
	assert.Equal(t, "my", ns[0].Plugin, "without an instance the names split at the first underscore")
	assert.Equal(t, "plugin_if_octets", ns[0].Type)
	assert.Equal(t, "my_plugin", ns[1].Plugin, "the plugin label names the plugin")
	assert.Equal(t, "if_octets", ns[1].Type)
	assert.Equal(t, "eth0", ns[1].PluginInstance)
	assert.Equal(t, Notification{Host: "h", Plugin: "p"}, ns[2])
}

func TestDecodeJSONErrors(t *testing.T) {
	vl := func(kv string) string {
		return `[{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":1.5,"interval":10,` +
			`"host":"h","plugin":"p","plugin_instance":"","type":"gauge","type_instance":""` + kv + `}]`
	}
	tests := []struct {
		name, body string
		index      int
		key, want  string
	}{
		{"not json", `[{"values":`, -1, "", "unexpected end"},
		{"not an array", `{"values":[]}`, -1, "", "want an array"},
		{"too deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), -1, "", "nested deeper than 16"},
		{"element not object", `[1]`, 0, "", "want an object, got a number"},
		{"neither", `[{"a":1}]`, 0, "", "neither a value list"},
		{"values not array", `[{"values":1,"dstypes":[]}]`, 0, "values", "want an array"},
		{"no dstypes", `[{"values":[1]}]`, 0, "dstypes", "missing"},
		{"dstypes count", `[{"values":[1,2],"dstypes":["gauge"]}]`, 0, "dstypes", "1 types for 2 values"},
		{"dsnames count", `[{"values":[1],"dstypes":["gauge"],"dsnames":[]}]`, 0, "dsnames", "0 names for 1 values"},
		{"bad dstype", `[{"values":[1],"dstypes":["float"]}]`, 0, "dstypes[0]", `"float"`},
		{"string value", `[{"values":["1"],"dstypes":["gauge"]}]`, 0, "values[0]", "got a string"},
		{"derive range", `[{"values":[1,9223372036854775808],"dstypes":["derive","derive"]}]`, 0, "values[1]", "out of range"},
		{"negative counter", `[{"values":[-1],"dstypes":["counter"]}]`, 0, "values[0]", "out of range"},
		{"host not string", vl(`,"host":1`), 0, "host", "want a string, got a number"},
		{"time string", vl(`,"time":"now"`), 0, "time", "got a string"},
		{"negative time", vl(`,"time":-1`), 0, "time", "negative"},
		{"huge interval", vl(`,"interval":1e300`), 0, "interval", "out of range"},
		{"huge interval digits", vl(`,"interval":99999999999`), 0, "interval", "too long"},
		{"labels not strings", `[{"labels":{"alertname":1}}]`, 0, "labels", "want an object of strings"},
		{"no alertname", `[{"labels":{}}]`, 0, "labels.alertname", "missing"},
		{"foreign alert", `[{"labels":{"alertname":"HighLoad"}}]`, 0, "labels.alertname", "collectd_"},
		{"plugin mismatch", `[{"labels":{"alertname":"collectd_a_gauge","b":"x"}}]`, 0, "labels.alertname", `label "b"`},
		{"two plugins", `[{"labels":{"alertname":"collectd_a_gauge","a":"x","b":"y"}}]`, 0, "labels", "at most one"},
		{"bad startsAt", `[{"labels":{"alertname":"collectd_a_b"},"startsAt":"yesterday"}]`, 0, "startsAt", "RFC 3339"},
		{"summary not string", `[{"labels":{"alertname":"collectd_a_b"},"annotations":{"summary":3}}]`, 0, "annotations.summary", "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeJSON([]byte(tt.body))
			require.Error(t, err)
			var je *JSONError
			require.ErrorAs(t, err, &je)
			assert.Equal(t, tt.index, je.Index)
			assert.Equal(t, tt.key, je.Key)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDecodeJSONKeepsGoodElements(t *testing.T) {
	var b strings.Builder
	b.WriteString(`[{"values":[1],"dstypes":["gauge"],"plugin":"ok"}`)
	for i := 0; i < 25; i++ {
		b.WriteString(`,{"values":["x"],"dstypes":["gauge"]}`)
	}
	b.WriteString(`,{"values":[2],"dstypes":["derive"],"plugin":"ok2"}]`)
	vls, _, err := DecodeJSON([]byte(b.String()))
	require.Error(t, err)
	require.Len(t, vls, 2)
	assert.Equal(t, "ok2", vls[1].Plugin)
	assert.Equal(t, []Value{DeriveValue(2)}, vls[1].Values)
	assert.Nil(t, vls[0].DSNames, "no dsnames: take them from a TypesDB")
	msg := err.Error()
	assert.Contains(t, msg, "JSON element 1, key \"values[0]\"")
	assert.Contains(t, msg, "15 more elements had errors")
	assert.Equal(t, 11, strings.Count(msg, "\n")+1)
}

func TestDecodeJSONEmpty(t *testing.T) {
	for _, body := range []string{`[]`, ` [ ] `, `null`} {
		vls, ns, err := DecodeJSON([]byte(body))
		assert.NoError(t, err, body)
		assert.Empty(t, vls)
		assert.Empty(t, ns)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, name := range []string{"write_http_values.json", "write_http_flush.json", "write_http_rates.json",
		"write_http_notif_warning.json", "write_http_notif_failure.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"values":[1e400,-0,0.0000000001],"dstypes":["gauge","derive","counter"],"time":1e9}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		vls, notifs, err := DecodeJSON(body)
		if !json.Valid(body) && (len(vls) > 0 || len(notifs) > 0) {
			t.Fatalf("invalid JSON decoded to %d value lists", len(vls))
		}
		for _, vl := range vls {
			if vl.DSNames != nil && len(vl.DSNames) != len(vl.Values) {
				t.Fatalf("%d names, %d values", len(vl.DSNames), len(vl.Values))
			}
			for _, v := range vl.Values {
				if !v.Type.IsValid() {
					t.Fatalf("invalid value type %d", v.Type)
				}
			}
			if vl.Interval < 0 {
				t.Fatalf("negative interval %v", vl.Interval)
			}
		}
		_, _ = AppendPoints(nil, nil, vls...)
		_ = err
	})
}

// A real collectd 5.12 posting to an HTTP server with write_http: every
// body decodes, and every value list and notification the plugin
// dispatches arrives.
func TestDecodeJSONFromCollectd(t *testing.T) {
	requireCollectd(t)
	var (
		mu     sync.Mutex
		vls    []ValueList
		notifs []Notification
		errs   []error
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.URL.Path != "/collectd" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		v, n, err := DecodeJSON(body)
		mu.Lock()
		vls, notifs = append(vls, v...), append(notifs, n...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w in %s", err, body))
		}
		mu.Unlock()
	}))
	defer srv.Close()

	conf := strings.NewReplacer("PORT", strings.TrimPrefix(srv.URL, "http://127.0.0.1:"),
		"PLUGIN_DIR", absTestdata(t), `Import "plug"`, `Import "write_http_plugin"`).
		Replace(string(readTestdata(t, "write_http.conf")))
	d := startCollectd(t, conf)

	pyplug := func() (n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, vl := range vls {
			if vl.Plugin == "pyplug" {
				n++
			}
		}
		return n
	}
	ok := waitFor(context.Background(), 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(notifs) >= 4 && len(vls) > 0
	})
	require.True(t, ok, "no value list body within 30s")
	d.stop() // flushes the rest
	assert.Zero(t, pyplug()%8, "whole reads: 8 value lists each")
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, errs)

	seen := map[string]Value{}
	for _, vl := range vls {
		if vl.Plugin == "pyplug" && len(vl.Values) > 0 {
			seen[vl.Identifier()] = vl.Values[len(vl.Values)-1]
		}
		assert.False(t, vl.Time.IsZero())
	}
	assert.Equal(t, DeriveValue(456), seen["testhost/pyplug-pi/if_octets"])
	assert.Equal(t, CounterValue(math.MaxUint64), seen["testhost/pyplug/counter"])
	assert.Equal(t, DeriveValue(math.MinInt64), seen[`testhost/pyplug/derive-neg "quote"\`])
	assert.Len(t, seen, 8)

	sev := map[Severity]Notification{}
	for _, n := range notifs {
		sev[n.Severity] = n
	}
	assert.Equal(t, "temperature", sev[Warning].Type)
	assert.Equal(t, "pi", sev[Warning].PluginInstance)
	assert.Equal(t, "ti", sev[Warning].TypeInstance)
	assert.Equal(t, "x", sev[Failure].PluginInstance)
	assert.Equal(t, "ok", sev[Okay].Message)
	assert.Equal(t, "odd severity", sev[0].Message)
}

// TestDecodeJSONHostileBodyCost: a body of a million bad elements costs a
// few times its size, not an error per element.
func TestDecodeJSONHostileBodyCost(t *testing.T) {
	for name, elem := range map[string]string{"numbers": "1", "empty objects": "{}"} {
		t.Run(name, func(t *testing.T) {
			body := []byte("[" + strings.Repeat(elem+",", 1<<20) + elem + "]")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			vls, notifs, err := DecodeJSON(body)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			assert.Empty(t, vls)
			assert.Empty(t, notifs)
			assert.Contains(t, err.Error(), "more elements had errors")
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(40*len(body)), "allocated %d bytes for a %d-byte body", allocated, len(body))
		})
	}
}
