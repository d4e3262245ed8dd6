package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
)

// TestHealthAndReady probes /health (public, InfluxDB 2's shape) and
// /ready (guarded, Hooks.Ready) with Python requests and the influxdb
// client over a real connection.
func TestHealthAndReady(t *testing.T) {
	var calls atomic.Int32
	h := newHandler(t, &sink{}, httpapi.Options{Token: "tok", Hooks: httpapi.Hooks{
		Ready: func(ctx context.Context) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if calls.Add(1) > 1 {
				return errors.New("forward buffer full")
			}
			return nil
		},
	}})
	srv := loopbackServer(t, h)
	runPython(t, "influxdb", "health_probe.py", srv.URL, "tok")
	assert.Equal(t, int32(2), calls.Load(), "the 403 did not call the hook")
}

func TestHealthWithoutHooks(t *testing.T) {
	h := newHandler(t, &sink{}, httpapi.Options{})
	w := serve(h, request(http.MethodGet, "/ready", nil))
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"status":"ready","started":"2024-06-01T12:00:00Z","up":"0s"}`, w.Body.String())

	r := request(http.MethodGet, "/health", nil)
	r.RemoteAddr = "10.1.2.3:4444"
	w = serve(h, r)
	require.Equal(t, http.StatusOK, w.Code, "public like /ping")
	assert.Equal(t, "1.2.3-test", w.Header().Get("X-DataKit"))

	r = request(http.MethodGet, "/ready", nil)
	r.RemoteAddr = "10.1.2.3:4444"
	w = serve(h, r)
	assert.Equal(t, http.StatusForbidden, w.Code, "guarded like the other routes")

	w = serve(h, request(http.MethodPost, "/health", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	w = serve(h, request(http.MethodHead, "/health", nil))
	assert.Equal(t, http.StatusOK, w.Code)
}
