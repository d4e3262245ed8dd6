package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

func TestWriteQueryParameters(t *testing.T) {
	opts := httpapi.Options{
		GlobalHostTags:     map[string]string{"host": "web01", "zone": "z1"},
		GlobalElectionTags: map[string]string{"cluster": "c1"},
	}
	body := []byte("cpu,host=own v=1 1717243200\n")
	at := ns(1717243200)
	v1 := []point.Field{fld("v", point.FloatValue(1))}
	tests := []struct {
		name      string
		target    string
		want      []point.Point
		input     string
		source    string
		version   string
		wantCalls int
	}{
		{name: "global host tags added, own tag kept", target: "/v1/write/metric?input=py&source=src&version=9", want: []point.Point{pt("cpu", tags("host", "own", "zone", "z1"), v1, at)}, input: "py", source: "src", version: "9", wantCalls: 1},
		{name: "ignore_global_host_tags", target: "/v1/write/metric?ignore_global_host_tags=1", want: []point.Point{pt("cpu", tags("host", "own"), v1, at)}, input: "metric", wantCalls: 1},
		{name: "deprecated ignore_global_tags", target: "/v1/write/metric?ignore_global_tags=true", want: []point.Point{pt("cpu", tags("host", "own"), v1, at)}, input: "metric", wantCalls: 1},
		{name: "empty flag is off", target: "/v1/write/metric?ignore_global_tags=", want: []point.Point{pt("cpu", tags("host", "own", "zone", "z1"), v1, at)}, input: "metric", wantCalls: 1},
		{name: "election tags replace host tags", target: "/v1/write/metric?global_election_tags=1&ignore_global_tags=1", want: []point.Point{pt("cpu", tags("host", "own", "cluster", "c1"), v1, at)}, input: "metric", wantCalls: 1},
		{name: "dry run does not write", target: "/v1/write/metric?dry=1", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sink
			h := newHandler(t, &s, opts)
			w := serve(h, request(http.MethodPost, tt.target, body))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Equal(t, tt.wantCalls, s.Calls())
			if tt.wantCalls == 0 {
				return
			}
			b := s.Batches()[0]
			assert.Equal(t, point.Metric, b.Category)
			assert.Equal(t, tt.input, b.Input)
			assert.Equal(t, tt.source, b.Source)
			assert.Equal(t, tt.version, b.Version)
			assertPoints(t, tt.want, b.Points)
			ri := s.Infos()[0]
			assert.Equal(t, httpapi.RouteWrite, ri.Route)
			assert.Equal(t, "127.0.0.1:40000", ri.RemoteAddr)
		})
	}
}

func TestWriteEcho(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	body := []byte(`[{"measurement":"abc","tags":{"t1":"b"},"fields":{"f1":123},"time":123}]`)
	for _, tt := range []struct{ name, q, want, ctype string }{
		{name: "echo=lp", q: "echo=lp", want: "abc,t1=b f1=123 123000000000\n", ctype: "text/plain; charset=utf-8"},
		{name: "echo_line_proto", q: "echo_line_proto=true", want: "abc,t1=b f1=123 123000000000\n", ctype: "text/plain; charset=utf-8"},
		{name: "echo=json", q: "echo=json", want: `[{"measurement":"abc","tags":{"t1":"b"},"fields":{"f1":123},"time":123000000000}]`, ctype: "application/json"},
		{name: "echo_json", q: "echo_json=1", want: `[{"measurement":"abc","tags":{"t1":"b"},"fields":{"f1":123},"time":123000000000}]`, ctype: "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, request(http.MethodPost, "/v1/write/metric?precision=s&"+tt.q, body, "Content-Type", "application/json"))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tt.ctype, w.Header().Get("Content-Type"))
			if tt.ctype == "application/json" {
				assert.JSONEq(t, tt.want, w.Body.String())
			} else {
				assert.Equal(t, tt.want, w.Body.String())
			}
		})
	}
}

func TestWriteLoose(t *testing.T) {
	t.Run("valid lines kept, object name fixed, the rest reported", func(t *testing.T) {
		var s sink
		h := newHandler(t, &s, httpapi.Options{})
		body := []byte("redis,tag2=b f1=1i 1717243200\nbad line here\nrds,name=y f1=2i 1717243200\n")
		w := serve(h, request(http.MethodPost, "/v1/write/object?loose=1", body))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var rep struct{ Content httpapi.LooseReport }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep))
		assert.Equal(t, 2, rep.Content.Accepted)
		assert.Equal(t, 1, rep.Content.Dropped)
		require.Len(t, rep.Content.Errors, 1)
		assert.Contains(t, rep.Content.Errors[0], "line 2:")
		pts := s.Points()
		require.Len(t, pts, 2)
		name, ok := pts[0].Tag("name")
		assert.True(t, ok)
		assert.Equal(t, "default", name)
	})
	t.Run("nothing dropped answers an empty 200", func(t *testing.T) {
		var s sink
		h := newHandler(t, &s, httpapi.Options{})
		w := serve(h, request(http.MethodPost, "/v1/write/object?loose=1", []byte("redis,tag2=b f1=1i 1717243200\n")))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, w.Body.String())
		assert.Len(t, s.Points(), 1)
	})
	t.Run("all bad is still 400", func(t *testing.T) {
		var s sink
		h := newHandler(t, &s, httpapi.Options{})
		w := serve(h, request(http.MethodPost, "/v1/write/metric?loose=1", []byte("bad\n")))
		require.Equal(t, http.StatusBadRequest, w.Code)
		assert.Equal(t, httpapi.CodeInvalidLinePoint, decodeError(t, w).Code)
		assert.Zero(t, s.Calls())
	})
}

func TestPing(t *testing.T) {
	now := fixedNow
	h := newHandler(t, &sink{}, httpapi.Options{Now: func() time.Time { now = now.Add(time.Second); return now }})
	r := request(http.MethodGet, "/v1/ping", nil)
	r.RemoteAddr = "192.0.2.7:1" // ping is public
	w := serve(h, r)
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"content":{"version":"1.2.3-test","uptime":"1s","host":"testhost"}}`, w.Body.String())

	w = serve(h, request(http.MethodHead, "/ping", nil))
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, "1.2.3-test", w.Header().Get("X-Influxdb-Version"))
}

func TestLastError(t *testing.T) {
	var mu sync.Mutex
	var got []httpapi.LastError
	h := newHandler(t, &sink{}, httpapi.Options{LastErrorsPerInput: 2, Hooks: httpapi.Hooks{
		OnLastError: func(_ context.Context, e httpapi.LastError) { mu.Lock(); got = append(got, e); mu.Unlock() },
	}})
	for _, c := range []string{"one", "two", "three"} {
		w := serve(h, request(http.MethodPost, "/v1/lasterror", []byte(`{"input":"redis","source":"s","err_content":"`+c+`"}`), "Content-Type", "application/json"))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	h.ReportLastError(context.Background(), httpapi.LastError{Input: "pythond/demo", Content: "Traceback"})
	require.Len(t, got, 4)
	assert.Equal(t, httpapi.LastError{Input: "redis", Source: "s", Content: "one", Time: fixedNow}, got[0])
	assert.Equal(t, []string{"pythond/demo", "redis"}, h.LastErrorInputs())
	assert.Equal(t, []httpapi.LastError{
		{Input: "redis", Source: "s", Content: "two", Time: fixedNow},
		{Input: "redis", Source: "s", Content: "three", Time: fixedNow},
	}, h.LastErrors("redis"), "two per input, oldest first")
	assert.Equal(t, []httpapi.LastError{{Input: "pythond/demo", Content: "Traceback", Time: fixedNow}}, h.LastErrors("pythond/demo"))
	assert.Nil(t, h.LastErrors("nginx"))

	// The result is the caller's.
	got2 := h.LastErrors("redis")
	got2[0].Content = "changed"
	assert.Equal(t, "two", h.LastErrors("redis")[0].Content)
}

// TestLastErrorReadback posts reports of several inputs over a real
// connection and reads them back per input while reports keep arriving,
// with the store's bound on inputs forgetting the least recent.
func TestLastErrorReadback(t *testing.T) {
	now := fixedNow
	var mu sync.Mutex
	h := newHandler(t, &sink{}, httpapi.Options{LastErrorsPerInput: 3, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}})
	srv := loopbackServer(t, h)
	post := func(input, content string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/v1/lasterror", "application/json",
			strings.NewReader(`{"input":"`+input+`","source":"py","err_content":"`+content+`"}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Empty(t, h.LastErrorInputs())
	for i := range 5 {
		post("redis", fmt.Sprintf("r%d", i))
		post("mysql", fmt.Sprintf("m%d", i))
	}
	assert.Equal(t, []string{"mysql", "redis"}, h.LastErrorInputs())
	var contents []string
	var times []time.Time
	for _, e := range h.LastErrors("redis") {
		contents = append(contents, e.Content)
		times = append(times, e.Time)
		assert.Equal(t, "py", e.Source)
	}
	assert.Equal(t, []string{"r2", "r3", "r4"}, contents)
	assert.True(t, slices.IsSortedFunc(times, time.Time.Compare), "oldest first: %v", times)

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { post(fmt.Sprintf("in%d", i), "x") })
		wg.Go(func() {
			for _, in := range h.LastErrorInputs() {
				assert.NotEmpty(t, h.LastErrors(in), in)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, []string{"in0", "in1", "in2", "in3", "mysql", "redis"}, h.LastErrorInputs())
}

func TestHostHooks(t *testing.T) {
	var gotQ httpapi.QueryRequest
	var gotL, gotDel httpapi.ObjectLabels
	var gotP httpapi.PipelineDebugRequest
	var gotD httpapi.DialtestingDebugRequest
	h := newHandler(t, &sink{}, httpapi.Options{Hooks: httpapi.Hooks{
		Workspace: func(context.Context) (any, error) { return []string{"ws"}, nil },
		QueryRaw: func(_ context.Context, q httpapi.QueryRequest) (any, error) {
			gotQ = q
			return []int{1}, nil
		},
		SetObjectLabels: func(_ context.Context, l httpapi.ObjectLabels) (any, error) {
			gotL = l
			return map[string]string{"_id": "x"}, nil
		},
		DeleteObjectLabels: func(_ context.Context, l httpapi.ObjectLabels) (any, error) {
			gotDel = l
			return map[string]string{"msg": "delete success!"}, nil
		},
		PipelineDebug: func(_ context.Context, p httpapi.PipelineDebugRequest) (any, error) {
			gotP = p
			return nil, &httpapi.Error{Status: 422, Code: "datakit.plFailed", Message: "script error"}
		},
		DialtestingDebug: func(_ context.Context, d httpapi.DialtestingDebugRequest) (any, error) {
			gotD = d
			return map[string]string{"status": "success"}, nil
		},
	}})
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"workspace", "GET", "/v1/workspace", "", 200, `{"content":["ws"]}`},
		{"query", "POST", "/v1/query/raw", `{"queries":[{"query":"cpu:(usage_idle) LIMIT 1","max_duration":"1d","time_range":[1,2],"orderby":[{"a":"desc"}],"disable_slimit":true}],"echo_explain":true}`, 200, `{"content":[1]}`},
		{"query without queries", "POST", "/v1/query/raw", `{"queries":[]}`, 400, `{"error_code":"datakit.badRequest","message":"query/raw: \"queries\" is empty"}`},
		{"query bad duration", "POST", "/v1/query/raw", `{"queries":[{"query":"x","max_duration":"1 day"}]}`, 400, `{"error_code":"datakit.badRequest","message":"query/raw: queries[0].max_duration \"1 day\" is not a duration like 1d or 2w"}`},
		{"labels", "POST", "/v1/object/labels", `{"object_class":"host_processes","object_name":"u_1","key":"host","value":"u","labels":["l1","l2"]}`, 200, `{"content":{"_id":"x"}}`},
		{"labels without labels", "POST", "/v1/object/labels", `{"object_class":"c","object_name":"n"}`, 400, `{"error_code":"datakit.badRequest","message":"object/labels: missing labels"}`},
		{"delete labels", "DELETE", "/v1/object/labels", `{"object_class":"c","object_name":"n","key":"k","value":12}`, 200, `{"content":{"msg":"delete success!"}}`},
		{"pipeline", "POST", "/v1/pipeline/debug", `{"pipeline":"YWJj","script_name":"s.p","category":"logging","data":["bGluZQ=="],"benchmark":true}`, 422, `{"error_code":"datakit.plFailed","message":"script error"}`},
		{"pipeline bad category", "POST", "/v1/pipeline/debug", `{"pipeline":"YWJj","category":"nope","data":["bGluZQ=="]}`, 400, ""},
		{"dialtesting", "POST", "/v1/dialtesting/debug", `{"task_type":"http","task":{"url":"http://x"}}`, 200, `{"content":{"status":"success"}}`},
		{"dialtesting bad class", "POST", "/v1/dialtesting/debug", `{"task_type":"ftp","task":{}}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			w := serve(h, request(tt.method, tt.path, body, "Content-Type", "application/json"))
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			if tt.want != "" {
				assert.JSONEq(t, tt.want, w.Body.String())
			}
		})
	}
	assert.Equal(t, "cpu:(usage_idle) LIMIT 1", gotQ.Queries[0].Query)
	assert.True(t, gotQ.EchoExplain)
	assert.Equal(t, []int64{1, 2}, gotQ.Queries[0].TimeRange)
	assert.Equal(t, httpapi.ObjectLabels{ObjectClass: "host_processes", ObjectName: "u_1", Key: "host", Value: "u", Labels: []string{"l1", "l2"}}, gotL)
	assert.Equal(t, "12", gotDel.Value)
	assert.Equal(t, httpapi.PipelineDebugRequest{Pipeline: "abc", ScriptName: "s.p", Category: point.Logging, Data: [][]byte{[]byte("line")}, Encode: "utf8", Benchmark: true}, gotP)
	assert.Equal(t, "http", gotD.TaskType)
	assert.JSONEq(t, `{"url":"http://x"}`, string(gotD.Task))
}

func TestInFlightLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	blocking := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		entered <- struct{}{}
		<-release
		return nil
	})
	h := newHandler(t, blocking, httpapi.Options{Limits: httpapi.Limits{MaxInFlight: 1}})
	done := make(chan int)
	go func() {
		done <- serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 1\n"))).Code
	}()
	<-entered
	w := serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 1\n")))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, httpapi.CodeReachMaxAPILimit, decodeError(t, w).Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	close(release)
	assert.Equal(t, http.StatusOK, <-done)
}

func TestTokenSources(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{Token: "tk"})
	body := []byte("cpu v=1 1\n")
	for _, tt := range []struct {
		name   string
		target string
		hdr    []string
		status int
	}{
		{"query token", "/v1/write/metric?token=tk", nil, 200},
		{"X-Token header", "/v1/write/metric", []string{"X-Token", "tk"}, 200},
		{"bearer", "/v1/write/metric", []string{"Authorization", "Bearer tk"}, 200},
		{"influx v1 u/p", "/write?db=d&u=x&p=tk", nil, 204},
		{"influx v1 Token user:pass", "/write?db=d", []string{"Authorization", "Token x:tk"}, 204},
		{"influx v1 basic auth", "/write?db=d", []string{"Authorization", "Basic eDp0aw=="}, 204},
		{"influx v2 token", "/api/v2/write?bucket=b", []string{"Authorization", "Token tk"}, 204},
		{"pushgateway X-BK-TOKEN", "/metrics/job/j", []string{"X-BK-TOKEN", "tk"}, 200},
		{"X-BK-TOKEN is only for the Pushgateway", "/v1/write/metric", []string{"X-BK-TOKEN", "tk"}, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.target == "/metrics/job/j" {
				b = []byte("g 1\n")
			}
			w := serve(h, request(http.MethodPost, tt.target, b, tt.hdr...))
			assert.Equal(t, tt.status, w.Code, w.Body.String())
		})
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	mux := http.NewServeMux()
	mux.Handle("/collect/", http.StripPrefix("/collect", h))
	w := serve(mux, request(http.MethodPost, "/collect/v1/write/metric", []byte("cpu v=1 1\n")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, s.Points(), 1)
}

func TestInfluxV2Write(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{Token: "tk", GlobalHostTags: map[string]string{"agent": "a1"}})
	body := gz([]byte("cpu,host=x v=1,s=\"str\" 1717243200000\n"))
	w := serve(h, request(http.MethodPost, "/api/v2/write?org=acme&bucket=metrics&precision=ms", body,
		"Authorization", "Token tk", "Content-Encoding", "gzip"))
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	ri := s.Infos()[0]
	assert.Equal(t, httpapi.RouteInfluxV2, ri.Route)
	assert.Equal(t, "acme", ri.Org)
	assert.Equal(t, "metrics", ri.Bucket)
	assert.Equal(t, "influxdb_v2", s.Batches()[0].Input)
	// InfluxDB keeps string fields; DataKit's metric rule would drop s.
	assertPoints(t, []point.Point{pt("cpu", tags("host", "x", "agent", "a1"),
		[]point.Field{fld("v", point.FloatValue(1)), fld("s", point.StringValue("str"))}, ns(1717243200))}, s.Points())
}
