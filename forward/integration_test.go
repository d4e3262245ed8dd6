package forward

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// agentWithForwarder serves the collectkit write API on loopback with f as
// its sink, like examples/agent with [sink] kind = "influx".
func agentWithForwarder(t testing.TB, f point.Sink) *httptest.Server {
	t.Helper()
	h, err := httpapi.New(httpapi.Options{Sink: f})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestVictoriaMillionPointsThroughWriteAPI(t *testing.T) {
	vm := startVictoria(t)
	f, err := New(Options{URL: vm.URL() + "/write", BufferDir: t.TempDir(), Concurrency: 4, Sync: SyncInterval})
	require.NoError(t, err)
	stop := runForwarder(t, f)
	agent := agentWithForwarder(t, f)

	const n, perRequest = 1_000_000, 10_000
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	start := time.Now()
	g, ctx := newGroup(4), context.Background()
	for i := 0; i < n; i += perRequest {
		g.Go(func() error {
			return postLP(ctx, agent.Client(), agent.URL+"/v1/write/metric?precision=ns", vmLines(nil, base, i, perRequest))
		})
	}
	require.NoError(t, g.Wait())
	accepted := time.Since(start)
	flush(t, f, 2*time.Minute)
	t.Logf("1M points: accepted through the write API in %v, delivered to VictoriaMetrics in %v; %+v", accepted, time.Since(start), f.Stats())
	checkExactlyOnce(t, vm.samples("fwd_v", n), n, false)
	stop()
	st := f.Stats()
	assert.EqualValues(t, n, st.PointsAccepted)
	assert.EqualValues(t, n, st.PointsSent)
	assert.Zero(t, st.BufferedPoints)
}

// outageDuration is how long VictoriaMetrics is down in TestVictoriaOutage:
// 30s as the requirement says; FORWARD_OUTAGE (a Go duration) shortens it
// for a quick local run.
func outageDuration(t testing.TB) time.Duration {
	if s := os.Getenv("FORWARD_OUTAGE"); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err)
		return d
	}
	return 30 * time.Second
}

func TestVictoriaOutage(t *testing.T) {
	vm := startVictoria(t)
	f, err := New(Options{URL: vm.URL() + "/write", BufferDir: t.TempDir(), MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, FlushInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	runForwarder(t, f)

	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	var next atomic.Int64 // ids written so far
	writeCtx, stopWriting := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 100 points every 20ms, through the decoder like the write API
		defer wg.Done()
		var dec protocol.Decoder
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-writeCtx.Done():
				return
			case <-tick.C:
			}
			i := int(next.Load())
			pts, err := dec.DecodeLineProtocol(vmLines(nil, base, i, 100), protocol.Options{Precision: protocol.Nanosecond})
			if !assert.NoError(t, err) {
				return
			}
			if !assert.NoError(t, f.Write(writeCtx, point.Batch{Category: point.Metric, Points: pts})) {
				return
			}
			next.Add(100)
		}
	}()

	time.Sleep(time.Second)
	vm.stop()
	down := outageDuration(t)
	t.Logf("VictoriaMetrics stopped for %v; %d points written so far", down, next.Load())
	time.Sleep(down)
	during := f.Stats()
	assert.Positive(t, during.BufferedPoints, "points must wait in the buffer while the backend is down")
	assert.Positive(t, during.Retries)
	vm.start()
	t.Log("VictoriaMetrics started again")
	time.Sleep(time.Second)
	stopWriting()
	wg.Wait()
	n := int(next.Load())
	flush(t, f, time.Minute)
	t.Logf("%d points; during the outage: %+v; after: %+v", n, during, f.Stats())
	checkExactlyOnce(t, vm.samples("fwd_v", n), n, false)
}

func TestVictoriaRestartWithBufferedData(t *testing.T) {
	vm := startVictoria(t)
	vm.stop() // the backend is down during the first run
	dir := t.TempDir()
	o := Options{URL: vm.URL() + "/write", BufferDir: dir, MinBackoff: 20 * time.Millisecond, ShutdownTimeout: 100 * time.Millisecond}
	f, err := New(o)
	require.NoError(t, err)
	stop := runForwarder(t, f)
	const n = 50_000
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	var dec protocol.Decoder
	for i := 0; i < n; i += 5000 {
		pts, err := dec.DecodeLineProtocol(vmLines(nil, base, i, 5000), protocol.Options{Precision: protocol.Nanosecond})
		require.NoError(t, err)
		require.NoError(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: pts}))
	}
	stop()
	require.EqualValues(t, n, f.Stats().BufferedPoints)

	vm.start()
	f2, err := New(o)
	require.NoError(t, err)
	assert.EqualValues(t, n, f2.Stats().BufferedPoints, "the buffer survives the restart")
	runForwarder(t, f2)
	flush(t, f2, time.Minute)
	checkExactlyOnce(t, vm.samples("fwd_v", n), n, false)
}

func TestVictoriaFleet(t *testing.T) {
	vm := startVictoria(t)
	const agents, perAgent = 20, 10_000
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	g := newGroup(agents)
	fwds := make([]*Forwarder, agents)
	for a := range agents {
		f, err := New(Options{URL: vm.URL() + "/write", BufferDir: t.TempDir(), FlushInterval: 200 * time.Millisecond})
		require.NoError(t, err)
		runForwarder(t, f)
		fwds[a] = f
		agent := agentWithForwarder(t, f)
		g.Go(func() error {
			for i := a * perAgent; i < (a+1)*perAgent; i += 2500 {
				if err := postLP(context.Background(), agent.Client(), agent.URL+"/v1/write/metric?precision=ns", vmLines(nil, base, i, 2500)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	var sent int64
	for _, f := range fwds {
		flush(t, f, time.Minute)
		sent += f.Stats().PointsSent
	}
	assert.EqualValues(t, agents*perAgent, sent)
	checkExactlyOnce(t, vm.samples("fwd_v", agents*perAgent), agents*perAgent, false)
}

// TestRelayToAnotherAgent: agent A forwards to agent B's
// /v1/write/{category}; B receives the same points, in their categories.
func TestRelayToAnotherAgent(t *testing.T) {
	var (
		mu       sync.Mutex
		received = map[point.Category][]point.Point{}
		origin   = map[point.Category]string{}
	)
	b, err := httpapi.New(httpapi.Options{Token: "b-token", Sink: point.SinkFunc(func(_ context.Context, bt point.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range bt.Points {
			received[bt.Category] = append(received[bt.Category], p.Clone())
		}
		origin[bt.Category] = bt.Input + "/" + bt.Source + "/" + bt.Version
		return nil
	})})
	require.NoError(t, err)
	agentB := httptest.NewServer(b)
	t.Cleanup(agentB.Close)

	f, err := New(Options{URL: agentB.URL + "/v1/write/{category}", Token: "b-token", BufferDir: t.TempDir(), FlushInterval: -1})
	require.NoError(t, err)
	runForwarder(t, f)
	a, err := httpapi.New(httpapi.Options{Sink: f})
	require.NoError(t, err)
	agentA := httptest.NewServer(a)
	t.Cleanup(agentA.Close)

	bodies := map[point.Category]string{
		point.Metric:  "cpu,host=a usage=12.5,cores=4i 1700000000000000000\ncpu,host=b usage=7.25,cores=8i 1700000001000000000\n",
		point.Logging: "nginx,host=a message=\"GET / 200\",status=\"info\" 1700000002000000000\n",
	}
	var dec protocol.Decoder
	want := map[point.Category][]point.Point{}
	for cat, body := range bodies {
		q := "?precision=ns"
		if cat == point.Logging {
			q += "&input=nginx-tail&source=nginx&version=1.2"
		}
		require.NoError(t, postLP(context.Background(), agentA.Client(), agentA.URL+"/v1/write/"+cat.String()+q, []byte(body)))
		pts, err := dec.DecodeLineProtocol([]byte(body), protocol.Options{Precision: protocol.Nanosecond})
		require.NoError(t, err)
		for _, p := range pts {
			want[cat] = append(want[cat], p.Clone())
		}
	}
	flush(t, f, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, received, len(want))
	assert.Equal(t, "metric//", origin[point.Metric], "httpapi names the input after the category when the request does not")
	assert.Equal(t, "nginx-tail/nginx/1.2", origin[point.Logging], "input, source and version are relayed")
	for cat, pts := range want {
		require.Len(t, received[cat], len(pts), cat.String())
		for i := range pts {
			// The encoder writes tags and fields sorted by key (canonical form).
			assert.True(t, canonical(pts[i]).Equal(canonical(received[cat][i])), "%s point %d: sent %v, B received %v", cat, i, pts[i], received[cat][i])
		}
	}
}

// canonical returns p with its tags and fields sorted by key.
func canonical(p point.Point) point.Point {
	p = p.Clone()
	slices.SortFunc(p.Tags, func(a, b point.Tag) int { return strings.Compare(a.Key, b.Key) })
	slices.SortFunc(p.Fields, func(a, b point.Field) int { return strings.Compare(a.Key, b.Key) })
	return p
}

// TestBusyBufferGives429 shows the point of the busy error: with the
// backend down and the buffer full, the write API answers 429 with
// Retry-After instead of accepting what cannot be kept.
func TestBusyBufferGives429(t *testing.T) {
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: t.TempDir(), BufferMaxBytes: 256 << 10, BatchBytes: 16 << 10, Full: FullReject})
	require.NoError(t, err)
	defer f.Close()
	agent := agentWithForwarder(t, f)
	base := time.Now().Truncate(time.Millisecond)
	var resp *http.Response
	for i := 0; i < 1_000_000; i += 1000 {
		r, err := agent.Client().Post(agent.URL+"/v1/write/metric?precision=ns", "text/plain", bytesReader(vmLines(nil, base, i, 1000)))
		require.NoError(t, err)
		_ = r.Body.Close()
		if r.StatusCode != http.StatusOK {
			resp = r
			break
		}
	}
	require.NotNil(t, resp, "the write API never refused")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.Positive(t, secs)
	st := f.Stats()
	assert.Equal(t, st.PointsAccepted, st.BufferedPoints, "everything answered 200 is in the buffer")
}
