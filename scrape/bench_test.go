package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// nodeExporterBody generates a text body of node_exporter's shape: per
// CPU counters by mode, per device counters and gauges, a few histograms
// and summaries (about 1,350 samples, 125 KiB).
func nodeExporterBody() string {
	var b strings.Builder
	family := func(name, typ string) {
		fmt.Fprintf(&b, "# HELP %s Metric %s of the node.\n# TYPE %s %s\n", name, name, name, typ)
	}
	family("node_cpu_seconds_total", "counter")
	for cpu := range 32 {
		for _, mode := range []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"} {
			fmt.Fprintf(&b, "node_cpu_seconds_total{cpu=\"%d\",mode=\"%s\"} %d.%02d\n", cpu, mode, 100000+cpu*37, cpu)
		}
	}
	for _, m := range []string{"reads_completed", "writes_completed", "read_bytes", "written_bytes", "io_time_seconds", "discards_completed"} {
		family("node_disk_"+m+"_total", "counter")
		for d := range 24 {
			fmt.Fprintf(&b, "node_disk_%s_total{device=\"sd%c\"} %d\n", m, 'a'+d, 1234567+d)
		}
	}
	for _, m := range []string{"receive_bytes", "transmit_bytes", "receive_packets", "transmit_packets", "receive_errs", "transmit_errs", "receive_drop", "transmit_drop"} {
		family("node_network_"+m+"_total", "counter")
		for d := range 40 {
			fmt.Fprintf(&b, "node_network_%s_total{device=\"veth%04x\"} %d\n", m, d*7919, 98765432+d)
		}
	}
	for _, m := range []string{"avail_bytes", "free_bytes", "size_bytes", "files", "files_free", "readonly", "device_error"} {
		family("node_filesystem_"+m, "gauge")
		for d := range 30 {
			fmt.Fprintf(&b, "node_filesystem_%s{device=\"/dev/mapper/vg-lv%d\",fstype=\"ext4\",mountpoint=\"/srv/data/%d\"} %g\n", m, d, d, 5e10+float64(d))
		}
	}
	for i := range 300 {
		family(fmt.Sprintf("node_memory_field%d_bytes", i), "gauge")
		fmt.Fprintf(&b, "node_memory_field%d_bytes %g\n", i, 1.6e10+float64(i)*4096)
	}
	for i := range 8 {
		name := fmt.Sprintf("node_scrape_step%d_seconds", i)
		family(name, "histogram")
		for _, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"} {
			fmt.Fprintf(&b, "%s_bucket{collector=\"c%d\",le=\"%s\"} %d\n", name, i, le, 10*i)
		}
		fmt.Fprintf(&b, "%s_sum{collector=\"c%d\"} 1.5\n%s_count{collector=\"c%d\"} %d\n", name, i, name, i, 10*i)
	}
	family("go_gc_duration_seconds", "summary")
	for _, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		fmt.Fprintf(&b, "go_gc_duration_seconds{quantile=\"%s\"} 2.5e-05\n", q)
	}
	b.WriteString("go_gc_duration_seconds_sum 0.0123\ngo_gc_duration_seconds_count 443\n")
	return b.String()
}

// BenchmarkScrapeNodeExporterBody is one scrape of a node_exporter-sized
// body from an httptest server on loopback: request, body, decoding,
// tags and normalization, into a counting sink; as text, gzipped text and
// delimited protobuf (made by expfmt from the text). It calls the scrape
// of a target directly, without the schedule.
func BenchmarkScrapeNodeExporterBody(b *testing.B) {
	body := []byte(nodeExporterBody())
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	_, _ = zw.Write(body)
	require.NoError(b, zw.Close())
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(b, err)
	var pb bytes.Buffer
	enc := expfmt.NewEncoder(&pb, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, mf := range fams {
		require.NoError(b, enc.Encode(mf))
	}
	for _, c := range []struct {
		name, contentType string
		gz                bool
		wire              []byte
	}{
		{"text", "text/plain; version=0.0.4", false, body},
		{"text-gzip", "text/plain; version=0.0.4", true, zbuf.Bytes()},
		{"protobuf", string(expfmt.NewFormat(expfmt.TypeProtoDelim)), false, pb.Bytes()},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				if c.gz {
					w.Header().Set("Content-Encoding", "gzip")
				}
				_, _ = w.Write(c.wire)
			}))
			defer srv.Close()
			var points int
			s, err := New(Options{
				Targets: []Target{{URL: srv.URL}},
				Sink: point.SinkFunc(func(_ context.Context, bt point.Batch) error {
					points += len(bt.Points)
					return nil
				}),
			})
			require.NoError(b, err)
			t := s.targets[0]
			ctx := context.Background()
			t.scrapeOnce(ctx)            // buffers grown
			b.SetBytes(int64(len(body))) // the text size, for all three
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t.scrapeOnce(ctx)
			}
			b.StopTimer()
			st := s.Stats()[0]
			require.True(b, st.Up, "%v", st.LastError)
			b.ReportMetric(float64(st.Samples), "samples/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(st.Samples), "ns/sample")
		})
	}
}
