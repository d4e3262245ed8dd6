package protocol_test

import (
	"fmt"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// What an exporter's samples become: a counter loses _total, a histogram's
// buckets are points tagged le, its _sum and _count one point, and the
// scrape's own tags follow the sample's labels.
func ExampleDecodeExposition() {
	body := []byte(`# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{method="GET"} 1027
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 8
latency_seconds_bucket{le="+Inf"} 10
latency_seconds_sum 1.5
latency_seconds_count 10
`)
	pts, stats, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{
		Format: protocol.ExpositionFormatOf("text/plain; version=0.0.4"),
		Now:    time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		Tags:   []point.Tag{{Key: "job", Value: "web"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(stats.Samples, "samples")
	for _, p := range pts {
		fmt.Println(p)
	}
	// Output:
	// 5 samples
	// http_requests,method=GET,job=web total=1027 2026-06-01T12:00:00Z
	// latency_seconds,job=web,le=0.1 bucket=8 2026-06-01T12:00:00Z
	// latency_seconds,job=web,le=+Inf bucket=10 2026-06-01T12:00:00Z
	// latency_seconds,job=web sum=1.5,count=10 2026-06-01T12:00:00Z
}

// Errors locate the problem; limits are checked as the body is read.
func ExampleDecodeExposition_error() {
	body := []byte("# TYPE g gauge\ng{a=\"1\",b=\"2\",c=\"3\"} 1\n")
	_, _, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{MaxLabels: 2})
	fmt.Println(err)
	// Output:
	// protocol: at line 2:2: sample "g" has 3 labels, more than the limit of 2 per sample
}

// ParsePushPath gives a push's grouping key, which DecodeExposition puts
// over the body's labels as the Pushgateway groups a push.
func ExampleParsePushPath() {
	key, err := protocol.ParsePushPath("/metrics/job/backup/instance@base64/ZGIvMQ/zone/eu+west")
	fmt.Println(key, err)
	pts, _, err := protocol.DecodeExposition(nil, []byte("last_success{zone=\"other\"} 1.7e9\n"), protocol.ExpositionOptions{
		Tags: key, TagsOverride: true, RejectTimestamps: true,
	})
	fmt.Println(pts[0].Name, pts[0].Tags, err)
	_, err = protocol.ParsePushPath("/metrics/job/")
	fmt.Println(err)
	// Output:
	// [{job backup} {instance db/1} {zone eu west}] <nil>
	// last_success [{job backup} {instance db/1} {zone eu west}] <nil>
	// invalid Pushgateway path "/metrics/job/": the job name is empty
}

// CountExpositionText sizes a body before it is decoded, as a server
// budgets a push's memory.
func ExampleCountExpositionText() {
	samples, labels := protocol.CountExpositionText([]byte("# TYPE reqs counter\nreqs_total{code=\"200\",path=\"/\"} 7\nreqs_total{code=\"500\",path=\"/\"} 1\n"))
	fmt.Println(samples, labels)
	// Output: 2 4
}
