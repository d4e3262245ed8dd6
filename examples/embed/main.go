package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// counter is a custom point.Sink: it keeps the number of points and the
// last value of every numeric field per measurement. It copies what it keeps
// (strings of a batch may alias the request body) and is safe for concurrent
// use, as the Sink contract requires.
type counter struct {
	mu     sync.Mutex
	counts map[string]*measurementStats
}

type measurementStats struct {
	Category string             `json:"category"`
	Points   int                `json:"points"`
	Last     map[string]float64 `json:"last"`
}

func newCounter() *counter { return &counter{counts: map[string]*measurementStats{}} }

func (c *counter) Write(_ context.Context, b point.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range b.Points {
		st, ok := c.counts[p.Name]
		if !ok {
			st = &measurementStats{Category: b.Category.String(), Last: map[string]float64{}}
			c.counts[string([]byte(p.Name))] = st // a copy: p.Name may alias the body
		}
		st.Points++
		for _, f := range p.Fields {
			var v float64
			switch f.Value.Kind() {
			case point.KindInt:
				v = float64(f.Value.Int())
			case point.KindUint:
				v = float64(f.Value.Uint())
			case point.KindFloat:
				v = f.Value.Float()
			default:
				continue
			}
			st.Last[string([]byte(f.Key))] = v
		}
	}
	return nil
}

func (c *counter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	names := make([]string, 0, len(c.counts))
	for n := range c.counts {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		st := c.counts[n]
		out = append(out, map[string]any{"measurement": n, "category": st.Category, "points": st.Points, "last": st.Last})
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// newApp builds the application's mux: its own route, the write API under
// /datakit/, and the counter's statistics.
func newApp(logger *slog.Logger) (http.Handler, error) {
	stats := newCounter()
	// httpapi bounds each request's cost by default; how many run at once
	// is the host's choice.
	api, err := httpapi.New(httpapi.Options{Sink: stats, Version: "embed-example/1.0", Logger: logger,
		Limits: httpapi.Limits{MaxInFlight: 64}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello from the application") })
	mux.Handle("/datakit/", http.StripPrefix("/datakit", api))
	mux.Handle("GET /stats", stats)
	return mux, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "listen `address`")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app, err := newApp(logger)
	if err != nil {
		logger.Error("building the application", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *listen, Handler: app, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	logger.Info("listening", "addr", *listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serving", "err", err)
		stop()
		os.Exit(1)
	}
}
