package forward_test

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/point"
)

// A forwarder in front of an InfluxDB-compatible endpoint (here a small
// stand-in that prints what it receives).
func Example() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, _ := gzip.NewReader(r.Body)
		body, _ := io.ReadAll(zr)
		fmt.Printf("%s %s\n%s", r.Method, r.URL.RequestURI(), body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer backend.Close()
	dir, _ := os.MkdirTemp("", "forward-example")
	defer os.RemoveAll(dir)

	f, err := forward.New(forward.Options{URL: backend.URL + "/write?db=agents", BufferDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()

	p := point.New("cpu", time.Unix(1700000000, 0))
	p.AddTag("host", "web01").AddField("usage", point.FloatValue(12.5))
	if err := f.Write(ctx, point.Batch{Category: point.Metric, Points: []point.Point{p}}); err != nil {
		fmt.Println(err)
	}
	if err := f.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	cancel()
	fmt.Println("Run:", <-done)
	st := f.Stats()
	fmt.Println("accepted", st.PointsAccepted, "sent", st.PointsSent, "buffered", st.BufferedPoints)
	// Output:
	// POST /write?db=agents&precision=ns
	// cpu,host=web01 usage=12.5 1700000000000000000
	// Run: <nil>
	// accepted 1 sent 1 buffered 0
}

// Ready suits a readiness probe: nil while the forwarder takes writes and
// delivers them, else why not. Here the backend refuses everything, so
// the small buffer fills up.
func ExampleForwarder_Ready() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "disk full", http.StatusServiceUnavailable)
	}))
	defer backend.Close()
	dir, _ := os.MkdirTemp("", "forward-example")
	defer os.RemoveAll(dir)

	f, err := forward.New(forward.Options{
		Name: "central", URL: backend.URL + "/write", BufferDir: dir,
		BufferMaxBytes: 256 << 10, BatchBytes: 64 << 10, Full: forward.FullReject, ShutdownTimeout: -1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()

	fmt.Println("ready:", f.Ready())
	for i := 0; ; i++ {
		p := point.New("cpu", time.Unix(1700000000, 0))
		p.AddTag("host", fmt.Sprint("web", i)).AddField("usage", point.FloatValue(12.5))
		if err := f.Write(ctx, point.Batch{Category: point.Metric, Points: []point.Point{p}}); err != nil {
			fmt.Println("write:", errors.Is(err, point.ErrBusy), errors.Is(err, forward.ErrFull))
			break
		}
	}
	err = f.Ready()
	fmt.Println("ready:", errors.Is(err, forward.ErrFull))
	st := f.Status()
	fmt.Println(st.Name, "full:", st.Full, "refused:", st.Refused, "delivered:", st.Delivered)
	cancel()
	<-done
	// Output:
	// ready: <nil>
	// write: true true
	// ready: true
	// central full: true refused: 1 delivered: 0
}

// A forwarder is a prometheus.Collector: register it, and any others
// (with different Options.Name), in the host's registry.
func ExampleForwarder_Collect() {
	dir, _ := os.MkdirTemp("", "forward-example")
	defer os.RemoveAll(dir)
	reg := prometheus.NewPedanticRegistry()
	for _, name := range []string{"primary", "backup"} {
		f, err := forward.New(forward.Options{Name: name, URL: "http://127.0.0.1:8428/write", BufferDir: filepath.Join(dir, name)})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer f.Close()
		if err := reg.Register(f); err != nil {
			fmt.Println(err)
			return
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mf := range mfs {
		if mf.GetName() == "collectkit_forward_buffer_capacity_bytes" {
			for _, m := range mf.GetMetric() {
				fmt.Println(mf.GetName(), m.GetLabel()[0].GetName(), m.GetLabel()[0].GetValue(), m.GetGauge().GetValue())
			}
		}
	}
	// Output:
	// collectkit_forward_buffer_capacity_bytes forwarder backup 5.36870912e+08
	// collectkit_forward_buffer_capacity_bytes forwarder primary 5.36870912e+08
}
