package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// writeHTTPValues is a body as collectd 5.12's write_http sends it with
// Format "JSON" (captured from the real daemon): a derive pair, a gauge
// with a plugin instance, a counter.
const writeHTTPValues = `[{"values":[0,0],"dstypes":["derive","derive"],"dsnames":["rx","tx"],"time":1700000000.000,"interval":1.000,"host":"cktest","plugin":"ckseq","plugin_instance":"","type":"if_octets","type_instance":"io0"},` +
	`{"values":[0.5],"dstypes":["gauge"],"dsnames":["value"],"time":1700000000.250,"interval":1.000,"host":"cktest","plugin":"ckseq","plugin_instance":"pi","type":"gauge","type_instance":"g0"},` +
	`{"values":[18446744073709551615],"dstypes":["counter"],"dsnames":["value"],"time":1700000001.000,"interval":1.000,"host":"cktest","plugin":"ckseq","plugin_instance":"","type":"counter","type_instance":"c0"}]`

// writeHTTPNotification is a notification as write_http sends it (one per
// body), with both instances set.
const writeHTTPNotification = `[{"labels":{"alertname":"collectd_ckseq_gauge","instance":"cktest","ckseq":"npi","type":"n0","severity":"WARNING","service":"collectd"},"annotations":{"summary":"note 0"},"startsAt":"2023-11-14T22:13:20.000000000Z"}]`

func postCollectd(h http.Handler, target, body string, hdr ...string) *httptest.ResponseRecorder {
	return serve(h, request(http.MethodPost, target, []byte(body), append([]string{"Content-Type", "application/json"}, hdr...)...))
}

func TestCollectdValueLists(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{GlobalHostTags: map[string]string{"dc": "east", "host": "agent"}})
	w := postCollectd(h, "/collectd", writeHTTPValues)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, w.Body.String())

	batches := s.Batches()
	require.Len(t, batches, 1)
	assert.Equal(t, point.Metric, batches[0].Category)
	assert.Equal(t, "collectd", batches[0].Input)
	assert.Equal(t, "write_http", batches[0].Source)
	assert.Equal(t, httpapi.RouteCollectd, s.Infos()[0].Route)
	// The value list's host wins over the global host tag.
	assertPoints(t, []point.Point{
		pt("ckseq", tags("host", "cktest", "type", "if_octets", "type_instance", "io0", "dc", "east"),
			[]point.Field{fld("rx", point.IntValue(0)), fld("tx", point.IntValue(0))}, ns(1700000000)),
		pt("ckseq", tags("host", "cktest", "plugin_instance", "pi", "type", "gauge", "type_instance", "g0", "dc", "east"),
			[]point.Field{fld("value", point.FloatValue(0.5))}, ns(1700000000).Add(250*time.Millisecond)),
		pt("ckseq", tags("host", "cktest", "type", "counter", "type_instance", "c0", "dc", "east"),
			[]point.Field{fld("value", point.UintValue(18446744073709551615))}, ns(1700000001)),
	}, batches[0].Points)
}

func TestCollectdNotification(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	w := postCollectd(h, "/collectd", writeHTTPNotification)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	batches := s.Batches()
	require.Len(t, batches, 1)
	assert.Equal(t, point.KeyEvent, batches[0].Category)
	assertPoints(t, []point.Point{
		pt("ckseq", tags("host", "cktest", "plugin_instance", "npi", "type", "gauge", "type_instance", "n0"),
			[]point.Field{
				fld("df_status", point.StringValue("warning")),
				fld("df_message", point.StringValue("note 0")),
				fld("df_title", point.StringValue("note 0")),
				fld("df_source", point.StringValue("system")),
			}, time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)),
	}, batches[0].Points)
}

func TestCollectdMixedBodyTwoBatches(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	body := strings.TrimSuffix(writeHTTPValues, "]") + "," + strings.TrimPrefix(writeHTTPNotification, "[")
	w := postCollectd(h, "/collectd", body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	batches := s.Batches()
	require.Len(t, batches, 2)
	assert.Equal(t, point.Metric, batches[0].Category)
	assert.Len(t, batches[0].Points, 3)
	assert.Equal(t, point.KeyEvent, batches[1].Category)
	assert.Len(t, batches[1].Points, 1)
}

func TestCollectdNaNAndMissingTime(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	// A null gauge is collectd's "unknown": no field; a value list with no
	// field left is no point, and no error. A missing time is now.
	body := `[{"values":[null,3],"dstypes":["gauge","derive"],"dsnames":["a","b"],"host":"h","plugin":"p","type":"t"},` +
		`{"values":[null],"dstypes":["gauge"],"dsnames":["value"],"time":1,"host":"h","plugin":"p","type":"gauge"}]`
	w := postCollectd(h, "/collectd", body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assertPoints(t, []point.Point{
		pt("p", tags("host", "h", "type", "t"), []point.Field{fld("b", point.IntValue(3))}, fixedNow),
	}, s.Points())

	s = sink{}
	h = newHandler(t, &s, httpapi.Options{})
	w = postCollectd(h, "/collectd", `[{"values":[null],"dstypes":["gauge"],"dsnames":["value"],"host":"h","plugin":"p","type":"gauge"}]`)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 0, s.Calls())
	w = postCollectd(h, "/collectd", `[]`)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 0, s.Calls())
}

func TestCollectdErrors(t *testing.T) {
	good := `{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":1,"host":"h","plugin":"p","type":"gauge"}`
	cases := []struct {
		name, body string
		status     int
		code       string
		contains   []string
	}{
		{"not an array", `{"values":[1]}`, 400, httpapi.CodeInvalidJSONPoint, []string{"JSON body"}},
		{"not JSON", `values`, 400, httpapi.CodeInvalidJSONPoint, []string{"JSON body"}},
		{"bad value", `[` + good + `,{"values":["x"],"dstypes":["gauge"],"dsnames":["value"],"plugin":"p","type":"gauge"}]`,
			400, httpapi.CodeInvalidJSONPoint, []string{"element 1", `"values[0]"`}},
		{"bad dstype", `[{"values":[1],"dstypes":["nope"],"dsnames":["value"],"plugin":"p","type":"gauge"}]`,
			400, httpapi.CodeInvalidJSONPoint, []string{"element 0", `"dstypes[0]"`}},
		{"missing dstypes", `[{"values":[1],"plugin":"p","type":"gauge"}]`,
			400, httpapi.CodeInvalidJSONPoint, []string{"element 0", `"dstypes"`}},
		{"neither", `[` + good + `,` + good + `,{"foo":1}]`, 400, httpapi.CodeInvalidJSONPoint, []string{"element 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s sink
			h := newHandler(t, &s, httpapi.Options{})
			w := postCollectd(h, "/collectd", tc.body)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			e := decodeError(t, w)
			assert.Equal(t, tc.code, e.Code)
			for _, c := range tc.contains {
				assert.Contains(t, e.Message, c)
			}
			assert.Equal(t, 0, s.Calls(), "nothing is written when the body is refused")
		})
	}
}

func TestCollectdLoose(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	body := `[{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":1,"host":"h","plugin":"p","type":"gauge"},` +
		`{"values":["x"],"dstypes":["gauge"],"dsnames":["value"],"plugin":"p","type":"gauge"}]`
	w := postCollectd(h, "/collectd?loose=1", body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "1", w.Header().Get(httpapi.HeaderDropped))
	var rep struct {
		Content httpapi.LooseReport `json:"content"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep))
	assert.Equal(t, 1, rep.Content.Accepted)
	assert.Equal(t, 1, rep.Content.Dropped)
	require.Len(t, rep.Content.Errors, 1)
	assert.Contains(t, rep.Content.Errors[0], "element 1")
	assert.Len(t, s.Points(), 1)

	// Loose with nothing left is still an error.
	w = postCollectd(h, "/collectd?loose=1", `[{"values":["x"],"dstypes":["gauge"],"dsnames":["value"],"plugin":"p","type":"gauge"}]`)
	assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
}

func TestCollectdDryAndIgnoreGlobalTags(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{GlobalHostTags: map[string]string{"dc": "east"}})
	w := postCollectd(h, "/collectd?dry=1", writeHTTPValues)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 0, s.Calls())
	w = postCollectd(h, "/collectd?ignore_global_host_tags=1&input=edge", writeHTTPValues)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	b := s.Batches()
	require.Len(t, b, 1)
	assert.Equal(t, "edge", b[0].Input)
	for _, p := range b[0].Points {
		for _, tg := range p.Tags {
			assert.NotEqual(t, "dc", tg.Key)
		}
	}
}

func TestCollectdGuards(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{Token: "tok"})

	// A missing token is a Basic challenge: write_http sends its User and
	// Password only after one.
	w := postCollectd(h, "/collectd", writeHTTPValues)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, `Basic realm="collectkit"`, w.Header().Get("WWW-Authenticate"))
	assert.Equal(t, httpapi.CodeInvalidToken, decodeError(t, w).Code)
	w = postCollectd(h, "/collectd?token=wrong", writeHTTPValues)
	assert.Equal(t, http.StatusUnauthorized, w.Code)

	// write_http sends the token as a Basic-auth password (User/Password)
	// or in the URL.
	r := request(http.MethodPost, "/collectd", []byte(writeHTTPValues))
	r.SetBasicAuth("collectd", "tok")
	assert.Equal(t, http.StatusOK, serve(h, r).Code)
	w = postCollectd(h, "/collectd?token=tok", writeHTTPValues)
	assert.Equal(t, http.StatusOK, w.Code)
	w = postCollectd(h, "/collectd", writeHTTPValues, "X-Token", "tok")
	assert.Equal(t, http.StatusOK, w.Code)

	r = request(http.MethodPost, "/collectd?token=tok", []byte(writeHTTPValues))
	r.RemoteAddr = "192.0.2.7:5000"
	w = serve(h, r)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, httpapi.CodePublicAccessDisabled, decodeError(t, w).Code)

	w = serve(h, request(http.MethodGet, "/collectd?token=tok", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, "POST", w.Header().Get("Allow"))

	w = postCollectd(h, "/collectd?token=tok", "")
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, httpapi.CodeEmptyBody, decodeError(t, w).Code)
	assert.Equal(t, 3, s.Calls())
}

func TestCollectdLimits(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{Limits: httpapi.Limits{MaxPoints: 2, MaxBodyBytes: 4096}})
	w := postCollectd(h, "/collectd", writeHTTPValues)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
	assert.Equal(t, httpapi.CodeBodyTooLarge, decodeError(t, w).Code)

	big := "[" + strings.Repeat(`{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"plugin":"p","type":"gauge"},`, 100) + "]"
	w = postCollectd(h, "/collectd", big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
	assert.Equal(t, 0, s.Calls())

	// A gzip body is undone as on every write route.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(`[{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":1,"plugin":"p","type":"gauge"}]`))
	require.NoError(t, zw.Close())
	w = serve(h, request(http.MethodPost, "/collectd", zb.Bytes(), "Content-Encoding", "gzip"))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, s.Points(), 1)
}

func TestCollectdBusySink(t *testing.T) {
	s := sink{Err: fmt.Errorf("queue full: %w", point.ErrBusy)}
	h := newHandler(t, &s, httpapi.Options{})
	w := postCollectd(h, "/collectd", writeHTTPValues)
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, httpapi.CodeSinkBusy, decodeError(t, w).Code)
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
}

func TestCollectdNormalized(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	// A value list with no plugin has no measurement: fixed as on
	// /v1/write, or refused with ?strict=.
	body := `[{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":1,"host":"h","plugin":"","type":"gauge"}]`
	w := postCollectd(h, "/collectd?strict=1", body)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	e := decodeError(t, w)
	assert.Equal(t, httpapi.CodePointGotWarning, e.Code)
	assert.Contains(t, e.Message, "invalid_measurement")
	assert.Equal(t, 0, s.Calls())

	w = postCollectd(h, "/collectd", body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assertPoints(t, []point.Point{
		pt("__default", tags("host", "h", "type", "gauge"), []point.Field{fld("value", point.FloatValue(1))}, ns(1)),
	}, s.Points())
}

// collectdBody is a write_http body of n value lists shaped like
// writeHTTPValues' (a derive pair, a gauge, a counter, in turn).
func collectdBody(n int) []byte {
	elems := strings.Split(strings.TrimSuffix(strings.TrimPrefix(writeHTTPValues, "["), "]"), "},{")
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		e := elems[i%len(elems)]
		if !strings.HasPrefix(e, "{") {
			e = "{" + e
		}
		if !strings.HasSuffix(e, "}") {
			e += "}"
		}
		b.WriteString(strings.Replace(e, `"type_instance":"`, fmt.Sprintf(`"type_instance":"%d-`, i), 1))
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// benchCollectd posts body to /collectd through ServeHTTP (no network)
// into a discarding Sink.
func benchCollectd(b *testing.B, body []byte, n int) {
	h, err := httpapi.New(httpapi.Options{Sink: point.Discard(), Version: "bench"})
	require.NoError(b, err)
	rd := bytes.NewReader(body)
	r := httptest.NewRequest(http.MethodPost, "/collectd", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		r.ContentLength = int64(len(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value_list")
}

// BenchmarkCollectdWriteHTTP posts a body of write_http's default
// BufferSize (4 KiB, 18 value lists).
func BenchmarkCollectdWriteHTTP(b *testing.B) {
	body := collectdBody(18)
	require.Less(b, len(body), 4096)
	benchCollectd(b, body, 18)
}

// BenchmarkCollectdWriteHTTPLarge posts 10,000 value lists in one body.
func BenchmarkCollectdWriteHTTPLarge(b *testing.B) {
	benchCollectd(b, collectdBody(10_000), 10_000)
}

func TestCollectdBodyHelper(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	w := postCollectd(h, "/collectd", string(collectdBody(18)))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, s.Points(), 18)
}

// FuzzCollectd posts a fuzzed body to /collectd. Whatever the body, the
// handler answers 200 or a 4xx without panicking; on 200 every written
// point is a metric with at least one field or a keyevent with the four
// df_ fields, and an answer 400 wrote nothing.
func FuzzCollectd(f *testing.F) {
	f.Add([]byte(writeHTTPValues), false)
	f.Add([]byte(writeHTTPNotification), true)
	f.Add([]byte(`[{"values":[null,1e400,-1],"dstypes":["gauge","gauge","derive"],"dsnames":["a","a","b"],"time":-1}]`), false)
	f.Add([]byte(`[{"labels":{"alertname":"collectd_"},"startsAt":"x"}]`), true)
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`), false)
	f.Fuzz(func(t *testing.T, body []byte, loose bool) {
		var s sink
		h := newHandler(t, &s, httpapi.Options{Limits: httpapi.Limits{MaxPoints: 50}})
		target := "/collectd"
		if loose {
			target += "?loose=1"
		}
		w := serve(h, request(http.MethodPost, target, body))
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if w.Code == http.StatusBadRequest && s.Calls() > 0 {
			t.Fatalf("400 after writing %d batches: %s", s.Calls(), w.Body.String())
		}
		for _, b := range s.Batches() {
			for _, p := range b.Points {
				switch b.Category {
				case point.Metric:
					if len(p.Fields) == 0 {
						t.Fatalf("metric point without fields: %+v", p)
					}
				case point.KeyEvent:
					if len(p.Fields) != 4 {
						t.Fatalf("keyevent point with %d fields: %+v", len(p.Fields), p)
					}
				default:
					t.Fatalf("batch of category %s", b.Category)
				}
			}
		}
	})
}

func TestCollectdHostileBodies(t *testing.T) {
	n := 1 << 20
	cases := []struct {
		name   string
		body   string
		limits httpapi.Limits
		code   string
	}{
		// More elements than MaxPoints: refused before decoding.
		{"a million empty objects", "[" + strings.Repeat("{},", n) + "{}]", httpapi.Limits{}, httpapi.CodeBodyTooLarge},
		{"a million numbers", "[" + strings.Repeat("1,", n) + "1]", httpapi.Limits{}, httpapi.CodeBodyTooLarge},
		// One element of a million values: over the memory budget.
		{"a million values", `[{"values":[` + strings.Repeat("1,", n) + `1]}]`, httpapi.Limits{MaxInFlightBytes: 32 << 20}, httpapi.CodeBodyTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s sink
			h := newHandler(t, &s, httpapi.Options{Limits: tc.limits})
			w := postCollectd(h, "/collectd", tc.body)
			assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
			assert.Equal(t, tc.code, decodeError(t, w).Code)
			assert.Equal(t, 0, s.Calls())
		})
	}
}
