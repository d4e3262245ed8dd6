package httpapi

import (
	"context"
	"fmt"

	"github.com/collectkit/collectkit/point"
)

// Route names the route family a request came in on.
type Route uint8

// Routes.
const (
	RouteUnknown     Route = iota // unknown
	RouteWrite                    // datakit_write: POST /v1/write/{category}
	RouteInfluxV1                 // influxdb_v1: POST /write
	RouteInfluxV2                 // influxdb_v2: POST /api/v2/write
	RoutePushgateway              // pushgateway: /metrics/job/...
	RouteCollectd                 // collectd: POST /collectd (write_http JSON)
)

var routeNames = [...]string{"unknown", "datakit_write", "influxdb_v1", "influxdb_v2", "pushgateway", "collectd"}

// String returns the route's name, for example "influxdb_v1".
func (r Route) String() string {
	if int(r) < len(routeNames) {
		return routeNames[r]
	}
	return fmt.Sprintf("Route(%d)", r)
}

// MarshalText implements encoding.TextMarshaler.
func (r Route) MarshalText() ([]byte, error) {
	if int(r) >= len(routeNames) {
		return nil, fmt.Errorf("httpapi: unknown route %d", r)
	}
	return []byte(routeNames[r]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler for the names String
// returns.
func (r *Route) UnmarshalText(text []byte) error {
	for i, n := range routeNames {
		if n == string(text) {
			*r = Route(i)
			return nil
		}
	}
	return fmt.Errorf("httpapi: unknown route %q", text)
}

// RequestInfo describes the HTTP request a batch came from. The handler puts
// it in the context it passes to Sink.Write; read it with
// RequestInfoFromContext.
type RequestInfo struct {
	// Route is the route family.
	Route Route
	// RemoteAddr is the client's address as net/http reports it.
	RemoteAddr string
	// Method is the HTTP method (it tells a Pushgateway PUT from a POST).
	Method string
	// Dry is true when the client asked for a dry run (?dry=); the Sink is
	// then not called, but hooks may see it.
	Dry bool

	// Database and RetentionPolicy are InfluxDB v1's db and rp parameters.
	Database, RetentionPolicy string
	// Org and Bucket are InfluxDB v2's org and bucket parameters.
	Org, Bucket string

	// Job is the Pushgateway job and GroupingKey the labels of the path,
	// "job" first and then in path order.
	Job         string
	GroupingKey []point.Tag
}

type requestInfoKey struct{}

// RequestInfoFromContext returns the RequestInfo the handler stored in ctx.
func RequestInfoFromContext(ctx context.Context) (RequestInfo, bool) {
	ri, ok := ctx.Value(requestInfoKey{}).(*RequestInfo)
	if !ok {
		return RequestInfo{}, false
	}
	return *ri, true
}

// ContextWithRequestInfo returns a copy of ctx carrying ri. The handler uses
// it; hosts may use it in tests of their Sinks.
func ContextWithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, &ri)
}
