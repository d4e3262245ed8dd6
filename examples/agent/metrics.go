package main

import (
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry returns the registry /metrics is served from: the agent's
// build, the Go runtime and process, and (through components, called at
// every scrape) the handler, sinks and inputs running at that moment, so
// that a reload's new inputs are seen without registering them.
func newRegistry(components func() []any) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	version, revision := buildVersion()
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "collectkit_build_info",
			Help:        "The agent's build: always 1, with its version, Go version and VCS revision as labels.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "revision": revision},
		}, func() float64 { return 1 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		delegate{components},
	)
	return reg
}

// delegate collects whatever the current components that are
// prometheus.Collectors collect. It describes nothing, which makes it an
// unchecked collector: the set changes on reload, and the registry still
// checks at every gather that no two metrics clash.
type delegate struct{ components func() []any }

func (delegate) Describe(chan<- *prometheus.Desc) {}

func (d delegate) Collect(ch chan<- prometheus.Metric) {
	for _, c := range d.components() {
		if c, ok := c.(prometheus.Collector); ok {
			c.Collect(ch)
		}
	}
}

// metricsHandler serves reg in the format the client asks for.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// buildVersion returns the agent's version and the VCS revision it was
// built from ("" when unknown).
func buildVersion() (string, string) {
	revision := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return version, revision
}

// versionLine is what -version prints.
func versionLine() string {
	v, rev := buildVersion()
	line := v + " " + runtime.Version()
	if rev != "" {
		line += " " + rev
	}
	return line
}
