package scrape_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
	"github.com/collectkit/collectkit/scrape"
)

// startExporter runs testdata/exporter.py (Debian's prometheus_client)
// on a free loopback port and returns its address.
func startExporter(t *testing.T) string {
	t.Helper()
	python := testkit.Python(t, "prometheus_client")
	addr := freePort(t)
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(python, "testdata/exporter.py", port)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &testkit.SyncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close() // the exporter exits at EOF
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("exporter did not start: %v\n%s", err, stderr.String())
	}
	require.Equal(t, "ready\n", line)
	return addr
}

// TestScrapePythonExporter scrapes a real prometheus_client 0.16
// exporter: it answers the Accept header with OpenMetrics, gzipped.
func TestScrapePythonExporter(t *testing.T) {
	addr := startExporter(t)
	rec := &recordingTransport{}
	b, r := first(t, scrape.Options{
		Targets: []scrape.Target{{URL: "http://" + addr + "/metrics"}},
		Client:  &http.Client{Transport: rec},
	})
	st := r.s.Stats()[0]
	require.True(t, st.Up, "%v", st.LastError)
	assert.Equal(t, protocol.ExpositionOpenMetrics, st.Format)
	resp := rec.last(t)
	assert.Equal(t, "gzip", resp.header.Get("Content-Encoding"))

	syn, rest := synthetic(b.Points)
	tags := ",instance=" + addr + ",job=prom"
	assert.Equal(t, []string{
		"api_called,endpoint=/orders" + tags + " total=1",
		"api_called,endpoint=/users" + tags + " total=3",
		"cpu_usage" + tags + " value=0.25",
		"exporter" + tags + ",lang=python,version=1.0 info=1",
		"task_state" + tags + ",task_state=idle value=0",
		"task_state" + tags + ",task_state=running value=1",
		"task_time_histogram" + tags + " count=2,sum=7.5",
		"task_time_histogram" + tags + ",le=+Inf bucket=2",
		"task_time_histogram" + tags + ",le=1 bucket=0",
		"task_time_histogram" + tags + ",le=2 bucket=0",
		"task_time_histogram" + tags + ",le=3 bucket=1",
		"task_time_histogram" + tags + ",le=4 bucket=1",
		"task_time_histogram" + tags + ",le=5 bucket=2",
		"task_time_summary" + tags + " count=2,sum=42",
	}, canonAll(rest, "created"))
	// A created sample per counter child, histogram and summary.
	var created []string
	for _, p := range rest {
		if v, ok := p.Field("created"); ok {
			created = append(created, canon(point.Point{Name: p.Name, Tags: p.Tags}))
			assert.InDelta(t, float64(time.Now().Unix()), v.Float(), 600)
		}
	}
	sort.Strings(created)
	assert.Equal(t, []string{"api_called,endpoint=/orders" + tags, "api_called,endpoint=/users" + tags, "task_time_histogram" + tags, "task_time_summary" + tags}, created)
	// 2 counters + 2 created, gauge, info, 2 states, 6 buckets + sum +
	// count + created, sum + count + created: 20.
	assert.Equal(t, 20.0, value(t, syn["scrape_samples_scraped"]))
	assert.Equal(t, 1.0, value(t, syn["up"]))
}

// recordingTransport keeps every response body it passes on.
type recordingTransport struct {
	mu   sync.Mutex
	resp []recorded
}

type recorded struct {
	header http.Header
	body   []byte
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	rt.resp = append(rt.resp, recorded{header: resp.Header.Clone(), body: body})
	rt.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (rt *recordingTransport) last(t *testing.T) recorded {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	require.NotEmpty(t, rt.resp)
	return rt.resp[len(rt.resp)-1]
}

// TestScrapeNodeExporter scrapes Debian's node_exporter: every sample of
// the body it served (as prometheus/common's expfmt reads it) is in the
// points exactly once, and the points hold nothing else.
func TestScrapeNodeExporter(t *testing.T) {
	addr, stderr := startNodeExporter(t)

	rec := &recordingTransport{}
	b, r := first(t, scrape.Options{
		Targets:  []scrape.Target{{URL: "http://" + addr + "/metrics"}},
		Client:   &http.Client{Transport: rec},
		Interval: 5 * time.Second,
		// The comparison is of the samples: keep NaN values.
		Constraint: constraint.Options{Actions: map[constraint.Rule]constraint.Action{constraint.RuleNonFinite: constraint.Ignore}},
	})
	st := r.s.Stats()[0]
	require.True(t, st.Up, "%v\n%s", st.LastError, stderr.String())
	assert.Equal(t, protocol.ExpositionProtobuf, st.Format, "node_exporter answers the Accept header with protobuf")

	resp := rec.last(t)
	body := resp.body
	if resp.header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		body, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	format := expfmt.ResponseFormat(resp.header)
	require.Equal(t, expfmt.TypeProtoDelim, format.FormatType(), resp.header.Get("Content-Type"))
	fams := decodeFamilies(t, body, format)
	want := familySamples(fams, map[string]string{"instance": addr, "job": "prom"})
	require.Greater(t, len(want), 200)

	syn, rest := synthetic(b.Points)
	assert.Equal(t, want, pointSamples(rest))
	assert.Equal(t, float64(len(want)), value(t, syn["scrape_samples_scraped"]))
	t.Logf("%d families, %d samples, %d points, %d body bytes", len(fams), len(want), len(rest), len(body))
}

func decodeFamilies(t *testing.T, body []byte, format expfmt.Format) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), format)
	var fams []*dto.MetricFamily
	for {
		mf := new(dto.MetricFamily)
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return fams
		}
		require.NoError(t, err)
		fams = append(fams, mf)
	}
}

func fmtFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// sampleString is one sample as a point carries it.
func sampleString(name string, tags map[string]string, key string, v float64) string {
	kv := make([]string, 0, len(tags))
	for k, val := range tags {
		kv = append(kv, k+"="+strconv.Quote(val))
	}
	sort.Strings(kv)
	return name + "{" + strings.Join(kv, ",") + "} " + key + "=" + fmtFloat(v)
}

// pointSamples lists every field of pts as a sample, sorted.
func pointSamples(pts []point.Point) []string {
	var out []string
	for _, p := range pts {
		tags := map[string]string{}
		for _, tg := range p.Tags {
			tags[tg.Key] = tg.Value
		}
		if len(tags) != len(p.Tags) {
			out = append(out, "duplicate tag in "+p.String())
		}
		for _, f := range p.Fields {
			out = append(out, sampleString(p.Name, tags, f.Key, f.Value.Float()))
		}
	}
	sort.Strings(out)
	return out
}

// familySamples lists the samples of fams as package protocol documents
// their mapping (for protobuf bodies): counters lose _total, a histogram
// without a +Inf bucket gets one, le and quantile in shortest form, a
// sum and a count per summary and histogram; labels with empty values
// dropped; plus the target's tags.
func familySamples(fams []*dto.MetricFamily, target map[string]string) []string {
	var out []string
	for _, mf := range fams {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			add := func(meas, key string, v float64, extra ...string) {
				tags := map[string]string{}
				for _, l := range m.GetLabel() {
					if l.GetValue() != "" { // no label, as in Prometheus
						tags[l.GetName()] = l.GetValue()
					}
				}
				for k, val := range target {
					tags[k] = val
				}
				if len(extra) == 2 {
					tags[extra[0]] = extra[1]
				}
				out = append(out, sampleString(meas, tags, key, v))
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(strings.TrimSuffix(name, "_total"), "total", m.GetCounter().GetValue())
				if ts := m.GetCounter().GetCreatedTimestamp(); ts != nil {
					add(strings.TrimSuffix(name, "_total"), "created", float64(ts.AsTime().UnixNano())/1e9)
				}
			case dto.MetricType_GAUGE:
				add(name, "value", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, "value", m.GetUntyped().GetValue())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, "value", q.GetValue(), "quantile", fmtFloat(q.GetQuantile()))
				}
				add(name, "sum", s.GetSampleSum())
				add(name, "count", float64(s.GetSampleCount()))
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					add(name, "bucket", float64(b.GetCumulativeCount()), "le", fmtFloat(b.GetUpperBound()))
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
				}
				if !inf {
					add(name, "bucket", float64(h.GetSampleCount()), "le", "+Inf")
				}
				add(name, "sum", h.GetSampleSum())
				add(name, "count", float64(h.GetSampleCount()))
			}
		}
	}
	sort.Strings(out)
	return out
}

// startNodeExporter runs Debian's node_exporter on a free loopback port
// until the test ends and returns its address, once it answers, and its
// stderr.
func startNodeExporter(t *testing.T) (string, *testkit.SyncBuffer) {
	t.Helper()
	const exe = "/usr/bin/prometheus-node-exporter"
	testkit.Program(t, exe)
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exe, "--web.listen-address="+addr)
	stderr := &testkit.SyncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	waitHTTP(t, addr, stderr.String)
	return addr, stderr
}
