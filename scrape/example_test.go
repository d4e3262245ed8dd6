package scrape_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/scrape"
)

func ExampleNew() {
	_, err := scrape.New(scrape.Options{
		Targets: []scrape.Target{{URL: "http://127.0.0.1:9100/metrics"}, {URL: "localhost:9256"}},
		Sink:    point.Discard(),
		// Prometheus's rule: a scrape ends before the next one starts.
		Interval: 5 * time.Second,
		Timeout:  10 * time.Second,
	})
	fmt.Println(errors.Is(err, scrape.ErrInvalidOptions))
	fmt.Println(err)
	// Output:
	// true
	// scrape: Timeout: 10s is longer than the interval 5s; a scrape must end before the next one starts
	// scrape: Targets[1].URL: "localhost:9256": scheme must be http or https
}

func ExampleScraper_Run() {
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE jobs_total counter\njobs_total{queue=\"mail\"} 7\n")
	}))
	defer exporter.Close()

	batches := make(chan point.Batch, 1)
	s, err := scrape.New(scrape.Options{
		Name:     "mailer",
		Targets:  []scrape.Target{{URL: exporter.URL + "/metrics", Tags: map[string]string{"env": "test"}}},
		Interval: time.Second,
		Sink: point.SinkFunc(func(_ context.Context, b point.Batch) error {
			select {
			case batches <- b.Clone(): // the points are only valid during Write
			default:
			}
			return nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	b := <-batches
	cancel()
	fmt.Println("Run:", <-done)

	var lines []string
	for _, p := range b.Points {
		var tags []string
		for _, t := range p.Tags {
			if t.Key != "instance" { // 127.0.0.1:<port>
				tags = append(tags, t.Key+"="+t.Value)
			}
		}
		sort.Strings(tags)
		f := p.Fields[0]
		if p.Name == scrape.MetricDuration {
			f.Value = point.StringValue("...")
		}
		lines = append(lines, fmt.Sprintf("%s{%s} %s=%v", p.Name, strings.Join(tags, ","), f.Key, f.Value))
	}
	sort.Strings(lines)
	fmt.Println(b.Input, b.Category)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// Run: <nil>
	// mailer metric
	// jobs{env=test,job=mailer,queue=mail} total=7
	// scrape_duration_seconds{env=test,job=mailer} value=...
	// scrape_samples_scraped{env=test,job=mailer} value=1
	// up{env=test,job=mailer} value=1
}

// A Scraper is a prometheus.Collector with a series per target; register
// it in the host's registry next to the other inputs' scrapers (each of
// its own Options.Name).
func ExampleScraper_Collect() {
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE jobs_total counter\njobs_total{queue=\"mail\"} 7\n")
	}))
	defer exporter.Close()

	scraped := make(chan struct{}, 1)
	s, err := scrape.New(scrape.Options{
		Name:     "mailer",
		Targets:  []scrape.Target{{URL: exporter.URL + "/metrics"}},
		Interval: time.Second,
		Sink: point.SinkFunc(func(context.Context, point.Batch) error {
			select {
			case scraped <- struct{}{}:
			default:
			}
			return nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-scraped
	cancel()
	<-done

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "collectkit_scrape_up", "collectkit_scrape_samples_scraped", "collectkit_scrape_scrapes_total":
			m := mf.GetMetric()[0]
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			fmt.Println(mf.GetName(), strings.Join(labels, ","), m.GetLabel()[0].GetValue(), v)
		}
	}
	st := s.Status()
	fmt.Println(st.Name, st.Interval, st.Targets[0].Up)
	// Output:
	// collectkit_scrape_samples_scraped input,instance,url mailer 1
	// collectkit_scrape_scrapes_total input,instance,url mailer 1
	// collectkit_scrape_up input,instance,url mailer 1
	// mailer 1s true
}
