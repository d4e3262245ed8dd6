package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// repeatReader yields pattern over and over, n bytes in all, without
// holding them: a large body that costs the client nothing.
type repeatReader struct {
	pattern []byte
	off     int
	n       int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	total := 0
	for len(p) > 0 && r.n > 0 {
		c := copy(p, r.pattern[r.off:])
		if int64(c) > r.n {
			c = int(r.n)
		}
		r.off = (r.off + c) % len(r.pattern)
		p, r.n, total = p[c:], r.n-int64(c), total+c
	}
	return total, nil
}

// gzipOf compresses n bytes of pattern at level.
func gzipOf(t testing.TB, pattern string, n int64, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, level)
	require.NoError(t, err)
	_, err = io.Copy(zw, &repeatReader{pattern: []byte(pattern), n: n})
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

var (
	bombOnce sync.Once
	bombLP   []byte // the reproduction
)

// lineBomb is `yes 'a v=1i' | head -c 133000000 | gzip -9`: about 194 KB
// that inflate to 19 million lines.
func lineBomb(t testing.TB) []byte {
	bombOnce.Do(func() { bombLP = gzipOf(t, "a v=1i\n", 133000000, gzip.BestCompression) })
	return bombLP
}

// allocated runs f and returns how many bytes it allocated (TotalAlloc
// grows by every allocation, so it bounds the high-water mark of what f
// held).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestGzipBombRefused is issue 9's first reproduction: a 194 KB gzip body
// of `a v=1i` lines is refused with 413 and what it costs does not grow
// with what it would decompress to.
func TestGzipBombRefused(t *testing.T) {
	body := lineBomb(t)
	t.Logf("bomb: %d bytes compressed, 133000000 decompressed", len(body))
	tests := []struct {
		name     string
		limits   httpapi.Limits
		maxAlloc uint64
		message  string
	}{
		// The line count stops it after 100,000 lines (700 KB).
		{name: "defaults", maxAlloc: 16 << 20, message: "more than 100000 lines"},
		// Without a line limit the decoded limit stops it.
		{name: "decoded limit", limits: httpapi.Limits{MaxPoints: -1, MaxDecodedBytes: 8 << 20}, maxAlloc: 40 << 20, message: "decompresses to more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			h := newHandler(t, s, httpapi.Options{Limits: tt.limits})
			var w *httptest.ResponseRecorder
			n := allocated(func() {
				w = serve(h, request(http.MethodPost, "/v1/write/metric", body, "Content-Encoding", "gzip"))
			})
			require.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
			e := decodeError(t, w)
			assert.Equal(t, httpapi.CodeBodyTooLarge, e.Code)
			assert.Contains(t, e.Message, tt.message)
			assert.Less(t, n, tt.maxAlloc, "bytes allocated answering the bomb")
			t.Logf("allocated %d bytes", n)
			assert.Zero(t, s.Calls())
		})
	}
}

// TestLargestLegalPoint: a body with one string field at DataKit's limit
// (32 MiB) passes the default limits, plain and gzip'd (issue 13, item 6).
func TestLargestLegalPoint(t *testing.T) {
	msg := strings.Repeat("x", 32<<20)
	body := []byte("app,host=a status=\"info\",message=\"" + msg + "\" 1717243200\n")
	for _, enc := range []string{"", "gzip"} {
		t.Run("encoding="+enc, func(t *testing.T) {
			var got int
			s := point.SinkFunc(func(_ context.Context, b point.Batch) error {
				v, _ := b.Points[0].Field("message")
				got = len(v.String())
				return nil
			})
			h := newHandler(t, s, httpapi.Options{})
			b, hdr := body, []string{}
			if enc != "" {
				b, hdr = gz(body), []string{"Content-Encoding", enc}
			}
			w := serve(h, request(http.MethodPost, "/v1/write/logging", b, hdr...))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, 32<<20, got)
		})
	}
}

// TestMemoryReturnedAfterLargeRequest: the buffers of a large request are
// not kept in the pools, so the heap falls back once it is answered.
func TestMemoryReturnedAfterLargeRequest(t *testing.T) {
	h := newHandler(t, point.Discard(), httpapi.Options{})
	serve(h, request(http.MethodPost, "/v1/write/metric", []byte("a v=1i\n")))
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // twice: sync.Pool keeps a victim cache for one cycle
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	big := []byte("app,host=a status=\"info\",message=\"" + strings.Repeat("x", 32<<20) + "\" 1717243200\n")
	w := serve(h, request(http.MethodPost, "/v1/write/logging", gz(big), "Content-Encoding", "gzip"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	lines := bytes.Repeat([]byte("a,t=1 v=1i,w=2i\n"), 99000)
	w = serve(h, request(http.MethodPost, "/v1/write/metric", lines))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	big, lines = nil, nil
	after := heap()
	t.Logf("heap before %d, after %d", base, after)
	assert.Less(t, after, base+(24<<20), "the heap after the large requests")
}

// TestInFlightBudget: with the budget taken, a request is answered 429
// datakit.reachMaxAPILimit with Retry-After, and one that could never fit
// is answered 413.
func TestInFlightBudget(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var calls atomic.Int32
	blocking := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		if calls.Add(1) == 1 { // only the first request is held
			entered <- struct{}{}
			<-release
		}
		return nil
	})
	// Decoding 20,000 lines of two pairs is estimated at about 11 MB.
	h := newHandler(t, blocking, httpapi.Options{Limits: httpapi.Limits{MaxInFlightBytes: 16 << 20}})
	held := bytes.Repeat([]byte("a,t=1 v=1i\n"), 20000)
	done := make(chan int, 1)
	go func() { done <- serve(h, request(http.MethodPost, "/v1/write/metric", held)).Code }()
	select {
	case <-entered:
	case code := <-done:
		t.Fatalf("the first request was answered %d instead of reaching the Sink", code)
	case <-time.After(10 * time.Second):
		t.Fatal("the first request did not reach the Sink")
	}
	w := serve(h, request(http.MethodPost, "/v1/write/metric", held))
	assert.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
	assert.Equal(t, httpapi.CodeReachMaxAPILimit, decodeError(t, w).Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	w = serve(h, request(http.MethodPost, "/v1/write/metric", bytes.Repeat([]byte("a,t=1 v=1i\n"), 60000)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
	close(release)
	assert.Equal(t, http.StatusOK, <-done)
	// Everything was given back.
	w = serve(h, request(http.MethodPost, "/v1/write/metric", held))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

// TestMaxPointsPerRequest: JSON elements and Pushgateway samples count
// like lines.
func TestMaxPointsPerRequest(t *testing.T) {
	opts := httpapi.Options{Limits: httpapi.Limits{MaxPoints: 3}}
	four := "[" + strings.TrimSuffix(strings.Repeat(`{"measurement":"m","fields":{"v":1}},`, 4), ",") + "]"
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{name: "lp at the limit", req: request(http.MethodPost, "/v1/write/metric", []byte("a v=1\na v=2\na v=3")), want: 200},
		{name: "lp over", req: request(http.MethodPost, "/v1/write/metric", []byte("a v=1\na v=2\na v=3\na v=4\n")), want: 413},
		{name: "influx over", req: request(http.MethodPost, "/write?db=x", []byte("a v=1\na v=2\na v=3\na v=4\n")), want: 413},
		{name: "json over", req: request(http.MethodPost, "/v1/write/metric", []byte(four), "Content-Type", "application/json"), want: 413},
		{name: "push over", req: request(http.MethodPut, "/metrics/job/j", []byte("a 1\nb 2\nc 3\nd 4\n")), want: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, &sink{}, opts)
			w := serve(h, tt.req)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
		})
	}
}

// TestHostileConcurrentRequests is issue 9's target: 32 concurrent hostile
// requests of every shape (gzip bombs of many lines and of one line, huge
// plain bodies, slow bodies, bodies at the line limit) through a real
// server keep the heap under 512 MiB, and a well-formed client writing at
// the same time keeps getting answers, most of them 200.
func TestHostileConcurrentRequests(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("hostile load test skipped in -short mode and under the race detector (it measures memory and needs speed)")
	}
	var stored atomic.Int64
	s := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		stored.Add(int64(len(b.Points)))
		return nil
	})
	h := newHandler(t, s, httpapi.Options{Limits: httpapi.Limits{BodyReadTimeout: time.Second}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	lines := lineBomb(t)
	oneLine := gzipOf(t, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 200<<20, gzip.BestSpeed)
	atLimit := bytes.Repeat([]byte("a v=1i\n"), 100000)

	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if v := ms.HeapInuse + ms.StackInuse; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()

	client := &http.Client{Timeout: 30 * time.Second}
	post := func(path string, body io.Reader, size int64, hdr ...string) (int, error) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
		if err != nil {
			return 0, err
		}
		req.ContentLength = size
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	type shape struct {
		name string
		send func() (int, error)
	}
	shapes := []shape{
		{"line bomb", func() (int, error) {
			return post("/v1/write/metric", bytes.NewReader(lines), int64(len(lines)), "Content-Encoding", "gzip")
		}},
		{"one-line bomb", func() (int, error) {
			return post("/v1/write/logging", bytes.NewReader(oneLine), int64(len(oneLine)), "Content-Encoding", "gzip")
		}},
		{"huge plain body", func() (int, error) {
			return post("/v1/write/logging", &repeatReader{pattern: []byte("xxxxxxxxxxxxxxxx"), n: 100 << 20}, -1)
		}},
		{"slow body", func() (int, error) {
			pr, pw := io.Pipe()
			go func() {
				defer pw.Close()
				for i := 0; i < 40; i++ {
					if _, err := pw.Write([]byte("a")); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
			return post("/v1/write/metric", pr, 1000)
		}},
		{"many tiny lines", func() (int, error) {
			return post("/v1/write/metric", bytes.NewReader(atLimit), int64(len(atLimit)))
		}},
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	deadline := time.Now().Add(6 * time.Second)
	for i := 0; i < 32; i++ {
		sh := shapes[i%len(shapes)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				code, err := sh.send()
				if err != nil {
					code = -1 // the server closed the connection on a body over the limit
				}
				mu.Lock()
				if statuses[sh.name] == nil {
					statuses[sh.name] = map[int]int{}
				}
				statuses[sh.name][code]++
				mu.Unlock()
			}
		}()
	}
	good := map[int]int{}
	var goodErr error
	for time.Now().Before(deadline) {
		code, err := post("/v1/write/metric", strings.NewReader("cpu,host=a usage=1 1717243200\n"), -1)
		if err != nil {
			goodErr = err
			break
		}
		good[code]++
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	t.Logf("hostile answers: %v", statuses)
	t.Logf("well-formed client answers: %v; peak heap+stack in use %d MiB", good, peak.Load()>>20)
	require.NoError(t, goodErr, "the well-formed client must get answers")
	assert.Greater(t, good[http.StatusOK], 0)
	assert.Less(t, peak.Load(), uint64(512<<20))
	for name, m := range statuses {
		if name != "many tiny lines" {
			assert.Zero(t, m[http.StatusOK], "%s answered 200", name)
		}
	}
}

// TestBodyReadDeadline: a body that trickles in (the 1 byte per
// second, sped up) or stalls is cut off with 408 once BodyReadTimeout has
// passed, while a body that arrives at a fair rate is read. The client is
// a raw connection, so that the time measured is the server's.
func TestBodyReadDeadline(t *testing.T) {
	s := &sink{}
	h := newHandler(t, s, httpapi.Options{Limits: httpapi.Limits{BodyReadTimeout: time.Second, MinBodyRate: 100}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		name   string
		chunk  string
		chunks int
		want   int
	}{
		{name: "trickle", chunk: "a", chunks: 100, want: http.StatusRequestTimeout},
		{name: "stall", chunk: "", chunks: 0, want: http.StatusRequestTimeout},
		{name: "fair rate", chunk: "cpu v=1i 1717243200\n", chunks: 20, want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			size := len(tt.chunk) * tt.chunks
			if tt.chunks == 0 {
				size = 100
			}
			_, err = fmt.Fprintf(conn, "POST /v1/write/metric HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
			require.NoError(t, err)
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for i := 0; i < tt.chunks; i++ {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := io.WriteString(conn, tt.chunk); err != nil {
						return
					}
				}
			}()
			start := time.Now()
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode, string(body))
			if tt.want == http.StatusRequestTimeout {
				assert.Contains(t, string(body), httpapi.CodeHTTPReadError)
				assert.Less(t, time.Since(start), 5*time.Second)
			}
		})
	}
}

// TestPushgatewayManyLabels is issue 9's second reproduction: one sample
// with 16k labels (165 KB) is refused, naming the line. Many labels in
// total are accepted: the decoder's cost is linear in the body's bytes.
func TestPushgatewayManyLabels(t *testing.T) {
	labels := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "l%d=\"v\"", i)
		}
		return b.String()
	}
	big := "# TYPE m gauge\nm{" + labels(16384) + "} 1\n"
	t.Logf("16k labels: %d bytes", len(big))
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "16k labels", body: big, want: "line 2: sample \"m\" has 16384 labels"},
		{name: "label bytes", body: "m{a=\"" + strings.Repeat("v", 20000) + "\"} 1\n", want: "line 1: sample \"m\" has 20004 bytes of labels"},
		{name: "many samples with 64 labels", body: strings.Repeat("m{"+labels(63)+",s=\"x\"} 1\n", 5000), want: ""},
		{name: "quoted braces and commas do not count", body: "m{a=\"}{,=,=\",b=\"x\"} 1\n", want: ""},
		{name: "a sample with as many labels as a point may have tags passes", body: "m{" + labels(256) + "} 1\n", want: ""},
		{name: "one label more is refused", body: "m{" + labels(257) + "} 1\n", want: "line 1: sample \"m\" has 257 labels, more than the limit of 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			h := newHandler(t, s, httpapi.Options{})
			start := time.Now()
			w := serve(h, request(http.MethodPut, "/metrics/job/j", []byte(tt.body)))
			if tt.want == "" {
				assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
				return
			}
			assert.Equal(t, http.StatusBadRequest, w.Code)
			assert.Contains(t, w.Body.String(), tt.want)
			assert.Zero(t, s.Calls())
			if !raceEnabled {
				assert.Less(t, time.Since(start), 2*time.Second)
			}
		})
	}
}

// TestRequestStopsWithItsClient: a push whose client has gone is not
// written (issue 9, item 2: no request outlives its client). Decoding
// takes microseconds (it is linear in the body), so the client goes
// before the request is served.
func TestRequestStopsWithItsClient(t *testing.T) {
	s := &sink{}
	h := newHandler(t, s, httpapi.Options{Limits: httpapi.Limits{MaxPushLabels: -1, MaxPushLabelBytes: -1}})
	var b strings.Builder
	b.WriteString("m{")
	for i := range 6000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "l%d=\"v\"", i)
	}
	b.WriteString("} 1\n")
	ctx, cancel := context.WithCancel(context.Background())
	r := request(http.MethodPut, "/metrics/job/j", []byte(b.String())).WithContext(ctx)
	cancel()
	start := time.Now()
	w := serve(h, r)
	elapsed := time.Since(start)
	t.Logf("answered %d after %s", w.Code, elapsed)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), "canceled")
	if !raceEnabled {
		assert.Less(t, elapsed, 5*time.Second, "the parse stopped with the client")
	}
	assert.Zero(t, s.Calls())

	// A write whose client is gone before decoding is not written either.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	w = serve(h, request(http.MethodPost, "/v1/write/metric", []byte("a v=1i\n")).WithContext(ctx))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Zero(t, s.Calls())
}

// TestLastErrorBounded is issue 9's fifth reproduction, scaled down: posts
// of 30 MiB are truncated (the stored entry and the answer say so), and the
// store as a whole stays under its bound.
func TestLastErrorBounded(t *testing.T) {
	var hooked []httpapi.LastError
	var mu sync.Mutex
	h := newHandler(t, &sink{}, httpapi.Options{
		LastErrorMaxTotalBytes: 64 << 10,
		Hooks: httpapi.Hooks{OnLastError: func(_ context.Context, e httpapi.LastError) {
			mu.Lock()
			hooked = append(hooked, e)
			mu.Unlock()
		}},
	})
	huge := strings.Repeat("é", 15<<20) // 30 MiB, two bytes a rune
	w := serve(h, request(http.MethodPost, "/v1/lasterror",
		[]byte(`{"input":"in","source":"s","err_content":"`+huge+`"}`), "Content-Type", "application/json"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, fmt.Sprintf(`{"content":{"truncated":true,"size":%d,"kept":%d}}`, 30<<20, httpapi.DefaultLastErrorMaxBytes), w.Body.String())
	for i := range 10 {
		w := serve(h, request(http.MethodPost, "/v1/lasterror",
			[]byte(fmt.Sprintf(`{"input":"in%d","err_content":"%s"}`, i, strings.Repeat("y", 100<<10))), "Content-Type", "application/json"))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	for i := range 20 {
		h.ReportLastError(context.Background(), httpapi.LastError{Input: fmt.Sprintf("go%d", i), Content: strings.Repeat("z", 8<<10)})
	}
	total := 0
	for _, e := range allLastErrors(h) {
		total += len(e.Content)
		assert.LessOrEqual(t, len(e.Content), httpapi.DefaultLastErrorMaxBytes+128)
	}
	assert.LessOrEqual(t, total, 64<<10+128)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, hooked)
	first := hooked[0]
	assert.True(t, first.Truncated)
	assert.Equal(t, 30<<20, first.Size)
	assert.Contains(t, first.Content, "[truncated: 31457280 bytes reported")
	assert.True(t, strings.HasPrefix(first.Content, "éé"))
	assert.LessOrEqual(t, len(first.Content), httpapi.DefaultLastErrorMaxBytes+128, "the hook (and so the log) gets the bounded report")
}

// TestProtect: a host route wrapped in Protect has the same loopback and
// token checks as the handler's own (issue 9, item 6: /metrics).
func TestProtect(t *testing.T) {
	h := newHandler(t, &sink{}, httpapi.Options{Token: "s3cret"})
	metrics := h.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "# TYPE x counter\n")
	}))
	tests := []struct {
		name   string
		remote string
		hdr    []string
		want   int
		code   string
	}{
		{name: "loopback with token", remote: "127.0.0.1:1", hdr: []string{"X-Token", "s3cret"}, want: 200},
		{name: "loopback with bearer", remote: "[::1]:1", hdr: []string{"Authorization", "Bearer s3cret"}, want: 200},
		{name: "loopback without token", remote: "127.0.0.1:1", want: 403, code: httpapi.CodeInvalidToken},
		{name: "remote with token", remote: "192.0.2.7:1", hdr: []string{"X-Token", "s3cret"}, want: 403, code: httpapi.CodePublicAccessDisabled},
		{name: "forwarded", remote: "127.0.0.1:1", hdr: []string{"X-Token", "s3cret", "X-Forwarded-For", "192.0.2.7"}, want: 403, code: httpapi.CodePublicAccessDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(http.MethodGet, "/metrics", nil, tt.hdr...)
			r.RemoteAddr = tt.remote
			w := serve(metrics, r)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
			if tt.code != "" {
				assert.Equal(t, tt.code, decodeError(t, w).Code)
				assert.NotContains(t, w.Body.String(), "# TYPE")
			}
		})
	}
}

// TestDuplicateMeasurementAndNegativeTime: issue 9, item 10, through the
// handler: a repeated JSON measurement resolves first-wins like fields,
// and a negative timestamp is stored with a warning (so strict refuses it).
func TestDuplicateMeasurementAndNegativeTime(t *testing.T) {
	s := &sink{}
	h := newHandler(t, s, httpapi.Options{})
	w := serve(h, request(http.MethodPost, "/v1/write/metric?precision=s",
		[]byte(`[{"measurement":"first","measurement":"second","fields":{"v":1,"v":2},"time":1717243200}]`), "Content-Type", "application/json"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	pts := s.Points()
	require.Len(t, pts, 1)
	assert.Equal(t, "first", pts[0].Name)
	v, _ := pts[0].Field("v")
	assert.Equal(t, 1.0, v.Float())

	w = serve(h, request(http.MethodPost, "/v1/write/metric?precision=s", []byte("neg v=1i -86400\n")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, int64(-86400), s.Points()[1].Time.Unix())
	w = serve(h, request(http.MethodPost, "/v1/write/metric?precision=s&strict=1", []byte("neg v=1i -86400\n")))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "negative_time")
	assert.Contains(t, w.Body.String(), "(line 1)")
}
