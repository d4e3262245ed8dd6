package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// Mount the write API under /collect/ on the host's own mux.
func Example() {
	sink := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		for _, p := range b.Points {
			fmt.Printf("%s %s: %s\n", b.Category, b.Input, p)
		}
		return nil
	})
	h, err := httpapi.New(httpapi.Options{
		Sink:           sink,
		Version:        "1.0.0",
		GlobalHostTags: map[string]string{"host": "web01"},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/collect/", http.StripPrefix("/collect", h))

	body := strings.NewReader("cpu,core=0 usage=12.5 1717243200\n")
	r := httptest.NewRequest(http.MethodPost, "/collect/v1/write/metric?input=demo&precision=s", body)
	r.RemoteAddr = "127.0.0.1:50000" // only loopback may write by default
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("X-DataKit"))

	r = httptest.NewRequest(http.MethodPost, "/collect/v1/write/nope", strings.NewReader("x v=1\n"))
	r.RemoteAddr = "127.0.0.1:50000"
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `"error_code":"datakit.invalidCategory"`))
	// Output:
	// metric demo: cpu,core=0,host=web01 usage=12.5 2024-06-01T12:00:00Z
	// 200 1.0.0
	// 400 true
}

// A host's own /metrics page gets the same loopback and token checks as the
// write routes.
func ExampleHandler_Protect() {
	h, err := httpapi.New(httpapi.Options{Sink: point.Discard(), Token: "s3cret"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /metrics", h.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE points_total counter")
	})))
	for _, hdr := range []string{"", "s3cret"} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = "127.0.0.1:50000"
		if hdr != "" {
			r.Header.Set("X-Token", hdr)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 403
	// 200
}
