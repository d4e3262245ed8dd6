package forward

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// BenchmarkForward measures points per second from Write to a 2xx answer:
// encoding, the on-disk buffer, batching, gzip and HTTP over loopback. One
// op is one point, written in batches of 1000.
func BenchmarkForward(b *testing.B) {
	b.Run("discard", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		for _, sync := range []SyncPolicy{SyncNever, SyncAlways} {
			b.Run("sync="+sync.String(), func(b *testing.B) { benchForward(b, srv.URL+"/write", sync) })
		}
	})
	b.Run("victoria", func(b *testing.B) {
		if _, err := exec.LookPath("victoria-metrics"); err != nil {
			if _, err := os.Stat("/usr/bin/victoria-metrics"); err != nil {
				b.Skip("victoria-metrics is not installed")
			}
		}
		vm := startVictoria(b)
		benchForward(b, vm.URL()+"/write", SyncNever)
	})
}

func benchForward(b *testing.B, url string, sync SyncPolicy) {
	f, err := New(Options{URL: url, BufferDir: b.TempDir(), Sync: sync, Concurrency: 2})
	require.NoError(b, err)
	stop := runForwarder(b, f)
	defer stop()
	pts := testPoints(0, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += len(pts) {
		if err := f.Write(ctx, point.Batch{Category: point.Metric, Points: pts[:min(len(pts), b.N-i)]}); err != nil {
			b.Fatal(err)
		}
	}
	flush(b, f, 5*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	st := f.Stats()
	b.SetBytes(st.BytesAccepted / int64(b.N))
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "points/s")
}

// BenchmarkBufferAppend measures the buffer's raw write throughput:
// appending one already-encoded record of 1000 points (about 60 KB), per
// sync policy. The buffer drops its oldest data to stay within 256 MiB.
func BenchmarkBufferAppend(b *testing.B) {
	var st encodeState
	var rec []byte
	rec = append(rec, make([]byte, recHeaderSize)...)
	for _, p := range testPoints(0, 1000) {
		rec, _ = st.enc.Append(rec, p)
	}
	sealRecord(rec, point.Metric, 1000, 0)
	for _, sync := range []SyncPolicy{SyncNever, SyncInterval, SyncAlways} {
		b.Run("sync="+sync.String(), func(b *testing.B) {
			f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: b.TempDir(), Sync: sync, Full: FullDropOldest, BufferMaxBytes: 256 << 20})
			require.NoError(b, err)
			defer f.Close()
			ctx := context.Background()
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := f.buf.append(ctx, rec, 1000); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkWrite measures Forwarder.Write: encoding a batch of 1000 points
// as line protocol and appending it to the buffer (SyncNever).
func BenchmarkWrite(b *testing.B) {
	pts := testPoints(0, 1000)
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: b.TempDir(), Sync: SyncNever, Full: FullDropOldest, BufferMaxBytes: 256 << 20})
	require.NoError(b, err)
	defer f.Close()
	ctx := context.Background()
	require.NoError(b, f.Write(ctx, point.Batch{Category: point.Metric, Points: pts}))
	b.SetBytes(f.Stats().BytesAccepted)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := f.Write(ctx, point.Batch{Category: point.Metric, Points: pts}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(pts))/b.Elapsed().Seconds(), "points/s")
}
