package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// A Pipeline cuts the log lines of source "app" into fields, as a DataKit
// Pipeline script with grok and default_time would: the time becomes the
// point's time, the level its status, and the rest module and msg. Debug
// lines are dropped.
func ExampleOptions_pipeline() {
	parseApp := func(ctx context.Context, source string, c point.Category, p *point.Point) (bool, error) {
		if source != "app" {
			return true, nil // no script for this source
		}
		msg, _ := p.Field("message")
		// 2026-01-02T03:04:05Z ERROR db: connection refused
		ts, rest, ok1 := strings.Cut(msg.Str(), " ")
		level, rest, ok2 := strings.Cut(rest, " ")
		module, text, ok3 := strings.Cut(rest, ": ")
		t, err := time.Parse(time.RFC3339, ts)
		if !ok1 || !ok2 || !ok3 || err != nil {
			return true, errors.New("message does not match TIME LEVEL MODULE: TEXT")
		}
		if level == "DEBUG" {
			return false, nil
		}
		p.Time = t
		p.AddField("status", point.StringValue(strings.ToLower(level)))
		p.AddField("module", point.StringValue(module))
		p.AddField("msg", point.StringValue(text))
		return true, nil
	}
	sink := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		for _, p := range b.Points {
			fmt.Printf("%s %s: %s\n", b.Category, b.Input, p)
		}
		return nil
	})
	h, err := httpapi.New(httpapi.Options{Sink: sink, Pipeline: parseApp})
	if err != nil {
		panic(err)
	}
	body := `app message="2026-01-02T03:04:05Z ERROR db: connection refused"` + "\n" +
		`app message="2026-01-02T03:04:06Z DEBUG db: ping"` + "\n"
	r := httptest.NewRequest(http.MethodPost, "/v1/write/logging?input=applog", strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:50000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, "dropped:", w.Header().Get(httpapi.HeaderDropped))
	// Output:
	// logging applog: app message="2026-01-02T03:04:05Z ERROR db: connection refused",status="error",module="db",msg="connection refused" 2026-01-02T03:04:05Z
	// 200 dropped: 1
}
