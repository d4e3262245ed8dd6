package forward_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

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
