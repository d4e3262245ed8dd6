package pythond

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// countSink counts points and signals every batch.
type countSink struct {
	points  atomic.Int64
	batches chan struct{}
}

func newCountSink() *countSink { return &countSink{batches: make(chan struct{}, 1<<20)} }

func (s *countSink) Write(_ context.Context, b point.Batch) error {
	s.points.Add(int64(len(b.Points)))
	s.batches <- struct{}{}
	return nil
}

// benchPoints is the Python expression for the reported points: 3 tags
// and 4 numeric or boolean fields each, like a typical system metric.
func benchPoints(n int) string {
	return fmt.Sprintf(`[{"measurement": "cpu", "tags": {"host": "web%%02d" %% (i %% 10), "region": "eu-west-1", "cpu": "cpu%%d" %% (i %% 8)}, "fields": {"usage_user": 12.5 + i, "usage_system": 3.25, "count": i, "ok": True}} for i in range(%d)]`, n)
}

// BenchmarkReport measures points per second from one Python process: the
// pipe of this package ("pipe") beside the same reports POSTed to the
// write API (package httpapi on a loopback server) with python3-requests,
// the way DataKit's framework sends them ("datakit-requests"). One
// benchmark op is one report of the given size. Compare the two within
// one run, as the load of the machine varies:
//
//	go test -run '^$' -bench BenchmarkReport -benchtime 1000x -count 3 ./pythond/
func BenchmarkReport(b *testing.B) {
	for _, size := range []int{10, 1000} {
		b.Run(fmt.Sprintf("pipe/points=%d", size), func(b *testing.B) { benchPipe(b, size) })
		b.Run(fmt.Sprintf("datakit-requests/points=%d", size), func(b *testing.B) { benchRequests(b, size) })
	}
}

// measure waits for the warm-up batch, then times b.N more batches.
func measure(b *testing.B, sink *countSink, size int, done <-chan error) {
	b.Helper()
	wait := func() {
		select {
		case <-sink.batches:
		case err := <-done:
			b.Fatalf("the script ended early: %v", err)
		case <-time.After(60 * time.Second):
			b.Fatal("timed out")
		}
	}
	wait() // warm-up: interpreter started, connections made
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		wait()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got, want := sink.points.Load(), int64((b.N+1)*size); got != want {
		b.Fatalf("got %d points, want %d", got, want)
	}
	b.ReportMetric(float64(b.N*size)/elapsed.Seconds(), "points/s")
}

func benchPipe(b *testing.B, size int) {
	root := b.TempDir()
	script := fmt.Sprintf(`
from datakit_framework import DataKitFramework

class Bench(DataKitFramework):
    name = 'Bench'
    interval = 3600

    def run(self):
        pts = %s
        for _ in range(%d):
            r = self.report({'M': pts, 'input': 'bench'})
            assert r == '', r
`, benchPoints(size), b.N+1)
	if err := os.MkdirAll(filepath.Join(root, "bench"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bench", "bench.py"), []byte(script), 0o644); err != nil {
		b.Fatal(err)
	}
	sink := newCountSink()
	s, err := New(Options{Inputs: []Input{{Name: "bench", Dirs: []string{"bench"}}}, Root: root, Sink: sink, StateDir: sharedState()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	measure(b, sink, size, done)
	cancel()
	<-done
}

func benchRequests(b *testing.B, size int) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import requests").Run(); err != nil {
		b.Skipf("%s with requests is needed: %v", python, err)
	}
	sink := newCountSink()
	h, err := httpapi.New(httpapi.Options{Sink: sink})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	// As DataKit's datakit_framework.py does: one requests.post per
	// category of each report, with json=, no session.
	script := fmt.Sprintf(`
import requests
pts = %s
url = %q + "/v1/write/metric?input=bench"
for _ in range(%d):
    r = requests.post(url, headers={"Content-Type": "application/json"}, json=pts)
    assert r.status_code == 200, r.text
`, benchPoints(size), srv.URL, b.N+1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", script)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	measure(b, sink, size, done)
	cancel()
	<-done
}
