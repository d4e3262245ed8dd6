package protocol_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// BenchmarkExposition decodes node_exporter's saved text body: into
// points with DecodeExposition, and into MetricFamily messages with
// prometheus/common's text parser alone (no mapping to points), in one
// run so the two are comparable. ns/sample is per sample line.
// collectkit-protobuf decodes a protobuf scrape of the same exporter.
func BenchmarkExposition(b *testing.B) {
	body := readExpoFile(b, "node_exporter.txt")
	opts := protocol.ExpositionOptions{Now: time.Unix(1, 0), Tags: []point.Tag{{Key: "instance", Value: "127.0.0.1:9100"}, {Key: "job", Value: "node"}}}
	_, st, err := protocol.DecodeExposition(nil, body, opts)
	if err != nil {
		b.Fatal(err)
	}
	perSample := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(st.Samples), "ns/sample")
	}
	b.Run("collectkit", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		var pts []point.Point
		for b.Loop() {
			var err error
			pts, _, err = protocol.DecodeExposition(pts[:0], body, opts)
			if err != nil {
				b.Fatal(err)
			}
		}
		perSample(b)
	})
	b.Run("collectkit-protobuf", func(b *testing.B) {
		// Another scrape of the same node_exporter, as protobuf.
		pb := readExpoFile(b, "node_exporter.pb")
		o := opts
		o.Format = protocol.ExpositionProtobuf
		_, pst, err := protocol.DecodeExposition(nil, pb, o)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(pb)))
		b.ReportAllocs()
		var pts []point.Point
		for b.Loop() {
			pts, _, _ = protocol.DecodeExposition(pts[:0], pb, o)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(pst.Samples), "ns/sample")
	})
	b.Run("expfmt", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			p := expfmt.NewTextParser(model.UTF8Validation)
			if _, err := p.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
		perSample(b)
	})
}
