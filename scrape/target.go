package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// AcceptHeader is the Accept header of every scrape: Prometheus 2.x's
// with protobuf negotiation on, so an exporter that can serves delimited
// protobuf, then OpenMetrics, then text 0.0.4.
const AcceptHeader = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,` +
	`application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,` +
	`text/plain;version=0.0.4;q=0.5,*/*;q=0.1`

// userAgent is sent with every scrape.
const userAgent = "collectkit-scrape/1"

// ErrBodyTooLarge is matched by the error of a scrape whose body,
// decompressed, is larger than Options.MaxBodyBytes.
var ErrBodyTooLarge = errors.New("scrape: body larger than the limit")

// ErrStatus is matched by the error of a scrape answered with a status
// other than 2xx; TargetStats.StatusCode has the status.
var ErrStatus = errors.New("scrape: HTTP status not 2xx")

// Names of the points a scrape adds for its target, as Prometheus does.
const (
	MetricUp             = "up"
	MetricDuration       = "scrape_duration_seconds"
	MetricSamplesScraped = "scrape_samples_scraped"
)

// bigBody is the buffer size past which a target's body buffer is not
// kept once a scrape used less than a quarter of it.
const bigBody = 8 << 20

// target is one URL's state. Only its loop goroutine uses the scratch
// fields; stats is guarded by mu.
type target struct {
	s      *Scraper
	index  int
	cfg    targetConfig
	offset time.Duration

	mu       sync.Mutex
	stats    TargetStats
	duration prometheus.Observer // this target's scrape duration histogram

	body bytes.Buffer
	pts  []point.Point
	tags []point.Tag
	gz   *gzip.Reader
}

func (t *target) snapshot() TargetStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.Offset = t.offset
	return st
}

// scrapeOnce fetches, decodes and writes one scrape. A scrape cut short
// because ctx is done reports nothing.
func (t *target) scrapeOnce(ctx context.Context) {
	cfg := &t.s.cfg
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	format, status, err := t.fetch(sctx)
	pts := t.pts[:0]
	var samples int
	if err == nil {
		var st protocol.ExpositionStats
		pts, st, err = protocol.DecodeExposition(pts, t.body.Bytes(), protocol.ExpositionOptions{
			Format: format, Now: start, MaxSamples: cfg.maxSamples,
		})
		if err != nil {
			err = fmt.Errorf("decoding the %s body: %w", format, err)
		}
		samples = st.Samples
	}
	cancel()
	if ctx.Err() != nil {
		return
	}
	dur := time.Since(start)
	if err != nil {
		pts, samples = pts[:0], 0
	} else {
		t.relabel(pts)
	}
	up := 0.0
	if err == nil {
		up = 1
	}
	labels := t.cfg.labels[:len(t.cfg.labels):len(t.cfg.labels)]
	for _, m := range [...]struct {
		name string
		v    float64
	}{{MetricUp, up}, {MetricDuration, dur.Seconds()}, {MetricSamplesScraped, float64(samples)}} {
		pts = append(pts, point.Point{Name: m.name, Tags: labels, Fields: []point.Field{{Key: "value", Value: point.FloatValue(m.v)}}, Time: start})
	}
	werr := t.s.sink.Write(ctx, point.Batch{Category: point.Metric, Input: cfg.name, Points: pts})
	written := len(pts)
	clear(pts)
	t.pts = pts[:0]
	clear(t.tags)
	if t.body.Cap() > bigBody && t.body.Len() < t.body.Cap()/4 {
		t.body = bytes.Buffer{}
	}
	t.record(start, dur, format, status, samples, written, err, werr)
}

// record updates the stats and logs what changed.
func (t *target) record(start time.Time, dur time.Duration, format protocol.ExpositionFormat, status, samples, points int, err, werr error) {
	t.mu.Lock()
	prev := t.stats
	st := &t.stats
	st.LastScrape, st.LastDuration, st.StatusCode = start, dur, status
	st.Up, st.LastError, st.SinkError = err == nil, err, werr
	st.Scrapes++
	if werr != nil {
		st.SinkErrors++
	}
	if err != nil {
		st.Format, st.Samples, st.Points = 0, 0, 0
		st.Failures++
	} else {
		st.Format, st.Samples, st.Points = format, samples, points
	}
	t.mu.Unlock()
	t.duration.Observe(dur.Seconds())

	lg := t.s.logger
	attrs := []slog.Attr{slog.String("url", t.cfg.url)}
	switch {
	case err != nil:
		attrs = append(attrs, slog.Int("status", status), slog.String("err", err.Error()))
		level := slog.LevelWarn
		if prev.Scrapes > 0 && !prev.Up && prev.LastError != nil && prev.LastError.Error() == err.Error() {
			level = slog.LevelDebug // the same failure again
		}
		lg.LogAttrs(context.Background(), level, "scrape failed", attrs...)
	case prev.Scrapes > 0 && !prev.Up:
		lg.LogAttrs(context.Background(), slog.LevelInfo, "scrape recovered", append(attrs, slog.Int("samples", samples))...)
	}
	if werr != nil && (prev.SinkError == nil || prev.SinkError.Error() != werr.Error()) {
		lg.LogAttrs(context.Background(), slog.LevelWarn, "writing scraped points failed", append(attrs, slog.String("err", werr.Error()))...)
	}
}

// fetch GETs the target into t.body and returns the body's format and
// the HTTP status (0 when no response came).
func (t *target) fetch(ctx context.Context) (protocol.ExpositionFormat, int, error) {
	cfg := &t.s.cfg
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.cfg.url, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", AcceptHeader)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(cfg.timeout.Seconds(), 'f', -1, 64))
	switch {
	case cfg.bearer != "":
		req.Header.Set("Authorization", "Bearer "+cfg.bearer)
	case cfg.bearerFile != "":
		tok, err := readToken(cfg.bearerFile)
		if err != nil {
			return 0, 0, fmt.Errorf("bearer token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case cfg.basic.Username != "":
		req.SetBasicAuth(cfg.basic.Username, cfg.basic.Password)
	}
	resp, err := cfg.client.Do(req)
	if err != nil {
		return 0, 0, t.timeoutErr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10) // lets the connection be reused
		return 0, resp.StatusCode, fmt.Errorf("%w: server returned HTTP status %s", ErrStatus, resp.Status)
	}
	var r io.Reader = resp.Body
	switch ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		if t.gz == nil {
			t.gz, err = gzip.NewReader(resp.Body)
		} else {
			err = t.gz.Reset(resp.Body)
		}
		if err != nil {
			return 0, resp.StatusCode, fmt.Errorf("reading the gzip body: %w", t.timeoutErr(ctx, err))
		}
		r = t.gz
	default:
		return 0, resp.StatusCode, fmt.Errorf("unsupported Content-Encoding %q", ce)
	}
	t.body.Reset()
	if cfg.maxBody > 0 {
		r = io.LimitReader(r, cfg.maxBody+1)
	}
	if _, err := t.body.ReadFrom(r); err != nil {
		return 0, resp.StatusCode, fmt.Errorf("reading the body: %w", t.timeoutErr(ctx, err))
	}
	if cfg.maxBody > 0 && int64(t.body.Len()) > cfg.maxBody {
		return 0, resp.StatusCode, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, cfg.maxBody)
	}
	return protocol.ExpositionFormatOf(resp.Header.Get("Content-Type")), resp.StatusCode, nil
}

// timeoutErr says so when err came from the scrape timeout.
func (t *target) timeoutErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", t.s.cfg.timeout, err)
	}
	return err
}

// relabel gives every point the target's labels, in place. Without
// honor_labels a sample label named like a target label is renamed
// exported_<name> (exported_exported_<name> if that is taken, and so
// on), as Prometheus does; with it the sample's label wins. A label with
// an empty value is dropped: Prometheus takes it as no label. The tags
// of all points live in one slab the target reuses.
func (t *target) relabel(pts []point.Point) {
	labels := t.cfg.labels
	need := 0
	for i := range pts {
		need += len(pts[i].Tags) + len(labels)
	}
	slab := t.tags[:0]
	if cap(slab) < need {
		slab = make([]point.Tag, 0, need)
	}
	for i := range pts {
		p := &pts[i]
		start := len(slab)
		if t.s.cfg.honorLabels {
			for _, tg := range p.Tags {
				if tg.Value != "" {
					slab = append(slab, tg)
				}
			}
			own := slab[start:]
			for _, l := range labels {
				if !hasKey(own, l.Key) {
					slab = append(slab, l)
				}
			}
		} else {
			for _, tg := range p.Tags {
				if tg.Value == "" {
					continue
				}
				if hasKey(labels, tg.Key) {
					tg.Key = exportedKey(tg.Key, p.Tags, labels)
				}
				slab = append(slab, tg)
			}
			slab = append(slab, labels...)
		}
		p.Tags = slab[start:len(slab):len(slab)]
	}
	t.tags = slab
}

func hasKey(tags []point.Tag, key string) bool {
	for _, t := range tags {
		if t.Key == key {
			return true
		}
	}
	return false
}

// exportedKey is the name a sample label conflicting with a target label
// is renamed to: the first of exported_<key>, exported_exported_<key>,
// ... that neither the sample nor the target has.
func exportedKey(key string, own, labels []point.Tag) string {
	for {
		key = "exported_" + key
		if !hasKey(own, key) && !hasKey(labels, key) {
			return key
		}
	}
}

// sortedTags returns m as tags sorted by key, without empty values.
func sortedTags(m map[string]string) []point.Tag {
	tags := make([]point.Tag, 0, len(m))
	for k, v := range m {
		if v != "" { // as Prometheus: an empty label is no label
			tags = append(tags, point.Tag{Key: k, Value: v})
		}
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags
}
