package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// serveLoopback answers one request from a loopback client.
func serveLoopback(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:50000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// A status page lists the errors external collectors reported.
func ExampleHandler_LastErrors() {
	h, err := httpapi.New(httpapi.Options{Sink: point.Discard()})
	if err != nil {
		panic(err)
	}
	serveLoopback(h, http.MethodPost, "/v1/lasterror", `{"input":"redis","source":"py","err_content":"connection refused"}`)
	serveLoopback(h, http.MethodPost, "/v1/lasterror", `{"input":"redis","err_content":"timeout"}`)
	h.ReportLastError(context.Background(), httpapi.LastError{Input: "mysql", Content: "access denied"})
	for _, in := range h.LastErrorInputs() {
		for _, e := range h.LastErrors(in) {
			fmt.Printf("%s: %s\n", e.Input, e.Content)
		}
	}
	// Output:
	// mysql: access denied
	// redis: connection refused
	// redis: timeout
}

// GET /ready asks the host whether it can take writes.
func ExampleHooks_ready() {
	var full bool
	h, err := httpapi.New(httpapi.Options{Sink: point.Discard(),
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Hooks: httpapi.Hooks{Ready: func(ctx context.Context) error {
			if full {
				return errors.New("forward buffer full")
			}
			return nil
		}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(serveLoopback(h, http.MethodGet, "/ready", "").Code)
	full = true
	w := serveLoopback(h, http.MethodGet, "/ready", "")
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200
	// 503 {"status":"not ready","message":"forward buffer full","started":"2026-01-02T03:04:05Z","up":"0s"}
}

// The Handler's metrics go into the host's own registry.
func ExampleHandler_Collect() {
	h, err := httpapi.New(httpapi.Options{Sink: point.Discard()})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	serveLoopback(h, http.MethodPost, "/v1/write/metric", "cpu v=1 1\ncpu s=\"x\" 2\n")
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "collectkit_httpapi_points_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			fmt.Println(strings.Join(labels, " "), m.GetCounter().GetValue())
		}
	}
	// Output:
	// category=metric outcome=accepted route=datakit_write 1
	// category=metric outcome=dropped route=datakit_write 1
}
