package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/pythond"
	"github.com/collectkit/collectkit/scrape"
)

//go:embed status.html
var statusHTML string

// agentStatus is everything the status pages show: one snapshot of the
// agent's inputs and outputs, taken when a page is asked for.
type agentStatus struct {
	Version     string                         `json:"version"`
	Started     time.Time                      `json:"started"`
	Now         time.Time                      `json:"now"`
	Pythond     []pythond.InputStatus          `json:"pythond"`
	Prom        []scrape.Status                `json:"prom"`
	Forwarder   *forward.Status                `json:"forwarder,omitempty"`
	LastErrors  map[string][]httpapi.LastError `json:"last_errors"`  // by input
	PointsTotal uint64                         `json:"points_total"` // points accepted by the sink so far
	Problems    []string                       `json:"problems"`     // config-level problems of inputs that could not even be built
}

const (
	// rateEvery is how often PointsTotal is sampled for the chart.
	rateEvery = 5 * time.Second
	// rateWindow is how far back the chart goes.
	rateWindow = 10 * time.Minute
	// crashLoopRestarts is the number of restarts from which an input
	// waiting to be restarted is shown as crashing rather than backing off.
	crashLoopRestarts = 3
)

// statusPages serves the agent's status as JSON (GET /v1/status) and as a
// page for people (GET /status), with the points accepted per second over
// the last minutes.
type statusPages struct {
	snapshot func() agentStatus
	tmpl     *template.Template

	mu      sync.Mutex
	samples []pointsSample // oldest first, none older than rateWindow before the newest
}

// pointsSample is PointsTotal at one time.
type pointsSample struct {
	at    time.Time
	total uint64
}

// rateSample is the rate of accepted points over the rateEvery before Time.
type rateSample struct {
	Time      time.Time `json:"time"`
	PerSecond float64   `json:"per_second"`
}

// newStatusPages returns the pages of the status snapshot returns. They
// have no chart until run has taken two samples.
func newStatusPages(snapshot func() agentStatus) *statusPages {
	return &statusPages{
		snapshot: snapshot,
		tmpl:     template.Must(template.New("status").Parse(statusHTML)),
	}
}

// run samples PointsTotal every rateEvery until ctx is done.
func (p *statusPages) run(ctx context.Context) {
	p.record(time.Now(), p.snapshot().PointsTotal)
	tick := time.NewTicker(rateEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			p.record(now, p.snapshot().PointsTotal)
		}
	}
}

// record keeps the sample total at time at, and forgets those that are
// out of the window.
func (p *statusPages) record(at time.Time, total uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.samples); n > 0 && !at.After(p.samples[n-1].at) {
		return
	}
	p.samples = append(p.samples, pointsSample{at, total})
	cut := 0
	for cut < len(p.samples) && at.Sub(p.samples[cut].at) > rateWindow {
		cut++
	}
	p.samples = slices.Delete(p.samples, 0, cut)
}

// rates returns the points per second between consecutive samples, oldest
// first. A total lower than the one before means counting restarted from
// zero (the agent reloaded its sinks): the points since are the new total.
func (p *statusPages) rates() []rateSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.samples) < 2 {
		return []rateSample{}
	}
	out := make([]rateSample, 0, len(p.samples)-1)
	for i := 1; i < len(p.samples); i++ {
		prev, cur := p.samples[i-1], p.samples[i]
		delta := cur.total
		if cur.total >= prev.total {
			delta = cur.total - prev.total
		}
		out = append(out, rateSample{Time: cur.at, PerSecond: float64(delta) / cur.at.Sub(prev.at).Seconds()})
	}
	return out
}

// statusDocument is the body of GET /v1/status.
type statusDocument struct {
	agentStatus
	PointsPerSecond []rateSample `json:"points_per_second"` // oldest first, the last rateWindow
}

// ServeJSON answers GET /v1/status with the snapshot and the points per
// second.
func (p *statusPages) ServeJSON(w http.ResponseWriter, r *http.Request) {
	st := p.snapshot()
	if st.Now.IsZero() {
		st.Now = time.Now()
	}
	body, err := json.Marshal(statusDocument{agentStatus: st, PointsPerSecond: p.rates()})
	if err != nil {
		http.Error(w, "encoding the status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}

// ServeHTML answers GET /status with the page for people: plain HTML and
// an SVG chart made here, which needs neither scripts nor anything from
// another site.
func (p *statusPages) ServeHTML(w http.ResponseWriter, r *http.Request) {
	v := newStatusView(p.snapshot(), p.rates())
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, v); err != nil {
		http.Error(w, "rendering the status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page runs no script and loads nothing: a report that slipped
	// past escaping could still do nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b.Bytes())
}

// health is how a state is shown: its word, and its colour as a CSS class
// (ok green, warn amber, bad red, idle grey).
type health struct {
	Word   string
	Class  string
	Detail string // why, for warn and bad; may be ""
}

// statusView is what the template renders: the snapshot with each state
// already judged.
type statusView struct {
	agentStatus
	Inputs     []inputView
	Targets    []targetView
	Forward    *forwardView
	Errors     []lastErrorsView
	Rate       string // the latest points per second, "" before two samples
	Chart      chartView
	Unhealthy  int // inputs, targets and the forwarder shown red
	Attention  int // shown amber
	RefreshSec int
}

// inputView is a pythond input with its collectors, judged.
type inputView struct {
	pythond.InputStatus
	Health     health
	Collectors []collectorView
	Errors     []pythond.CollectorError // newest first
}

// collectorView is one collector of an input, judged.
type collectorView struct {
	pythond.CollectorStatus
	Health health
}

// targetView is one target of a prom input (Input is its name), judged.
type targetView struct {
	Input string
	scrape.TargetStats
	Interval time.Duration
	Health   health
}

// forwardView is the forwarder, judged.
type forwardView struct {
	forward.Status
	Health health
}

// lastErrorsView is the reports of one input, newest first.
type lastErrorsView struct {
	Input  string
	Errors []httpapi.LastError
}

// newStatusView judges every part of st and draws the chart of rates.
func newStatusView(st agentStatus, rates []rateSample) *statusView {
	if st.Now.IsZero() {
		st.Now = time.Now()
	}
	v := &statusView{agentStatus: st, RefreshSec: int(rateEvery / time.Second)}
	count := func(h health) {
		switch h.Class {
		case "bad":
			v.Unhealthy++
		case "warn":
			v.Attention++
		}
	}
	for _, in := range st.Pythond {
		iv := inputView{InputStatus: in, Health: inputHealth(in), Errors: slices.Clone(in.LastErrors)}
		slices.Reverse(iv.Errors)
		for _, c := range in.Collectors {
			iv.Collectors = append(iv.Collectors, collectorView{CollectorStatus: c, Health: collectorHealth(c, st.Now)})
		}
		count(iv.Health)
		v.Inputs = append(v.Inputs, iv)
	}
	for _, s := range st.Prom {
		for _, t := range s.Targets {
			tv := targetView{Input: s.Name, TargetStats: t, Interval: s.Interval, Health: targetHealth(t)}
			count(tv.Health)
			v.Targets = append(v.Targets, tv)
		}
	}
	if st.Forwarder != nil {
		v.Forward = &forwardView{Status: *st.Forwarder, Health: forwarderHealth(*st.Forwarder)}
		count(v.Forward.Health)
	}
	inputs := make([]string, 0, len(st.LastErrors))
	for in := range st.LastErrors {
		inputs = append(inputs, in)
	}
	slices.Sort(inputs)
	for _, in := range inputs {
		if errs := st.LastErrors[in]; len(errs) > 0 {
			// Newest first: the one a person looks for.
			newest := slices.Clone(errs)
			slices.Reverse(newest)
			v.Errors = append(v.Errors, lastErrorsView{Input: in, Errors: newest})
		}
	}
	if len(rates) > 0 {
		v.Rate = formatRate(rates[len(rates)-1].PerSecond)
	}
	v.Chart = newChart(rates)
	return v
}

// inputHealth judges a pythond input by its state and its collectors'.
func inputHealth(in pythond.InputStatus) health {
	why := in.Problem
	if why == "" {
		why = in.LastExit
	}
	switch in.State {
	case pythond.StateBroken:
		return health{"broken", "bad", why}
	case pythond.StateBackoff:
		if in.Restarts >= crashLoopRestarts {
			return health{"crashing", "bad", why}
		}
		return health{"backoff", "warn", why}
	case pythond.StateStarting:
		return health{"starting", "warn", ""}
	case pythond.StateRunning:
		for _, c := range in.Collectors {
			if c.Overdue {
				return health{"hanging", "bad", fmt.Sprintf("collector %s has run past its timeout", c.Name)}
			}
		}
		return health{"running", "ok", ""}
	}
	return health{fmt.Sprint(in.State), "idle", why}
}

// collectorHealth judges one collector by its last run.
func collectorHealth(c pythond.CollectorStatus, now time.Time) health {
	switch {
	case c.Overdue:
		return health{"hanging", "bad", "running for " + formatAge(now.Sub(c.LastRun)) + ", past its timeout"}
	case c.LastError != "":
		return health{"failing", "bad", c.LastError}
	case c.Running:
		return health{"running", "ok", ""}
	case c.Runs == 0:
		return health{"waiting", "idle", ""}
	}
	return health{"ok", "ok", ""}
}

// targetHealth judges a scrape target by its last scrape.
func targetHealth(t scrape.TargetStats) health {
	switch {
	case t.Scrapes == 0:
		return health{"pending", "idle", ""}
	case !t.Up:
		why := errorText(t.LastError)
		if why == "" {
			why = "the last scrape failed"
		}
		return health{"down", "bad", why}
	case t.SinkError != nil:
		return health{"refused", "warn", "the sink refused the points: " + t.SinkError.Error()}
	}
	return health{"up", "ok", ""}
}

// forwarderHealth judges the forwarder by its buffer and deliveries.
func forwarderHealth(f forward.Status) health {
	switch {
	case f.Full:
		return health{"full", "bad", "the buffer is full: " + f.LastError}
	case f.Stuck:
		return health{"stuck", "bad", f.LastError}
	case f.LastError != "" && f.LastErrorTime.After(f.LastDelivery):
		return health{"retrying", "warn", f.LastError}
	case f.BufferedPoints > 0:
		return health{"delivering", "ok", ""}
	}
	return health{"idle", "ok", ""}
}

// Ago says how long before the snapshot t was: "12s ago", "never".
func (v *statusView) Ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := v.Now.Sub(t)
	if d < 0 {
		return "in " + formatAge(-d)
	}
	if d < time.Second {
		return "just now"
	}
	return formatAge(d) + " ago"
}

// Abs is t in full, for a title attribute; "" for the zero time.
func (v *statusView) Abs(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// Dur shows a run's or a scrape's duration to the millisecond.
func (v *statusView) Dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// Age shows a duration as formatAge does; "-" for zero.
func (v *statusView) Age(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return formatAge(d)
}

// Bytes shows a byte count in binary units.
func (v *statusView) Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n), -1
	for f >= unit && i < 3 {
		f /= unit
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + "KMGT"[i:i+1] + "iB"
}

// Percent shows a fraction as a percentage.
func (v *statusView) Percent(f float64) string {
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

// formatAge shows d in its two largest units: "12s", "3m12s", "2h5m",
// "3d4h".
func formatAge(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%dh", s/86400, s%86400/3600)
}

// formatRate shows a number of points per second with three significant
// digits at most, and k or M for large ones.
func formatRate(r float64) string {
	switch {
	case r >= 1e6:
		return strconv.FormatFloat(r/1e6, 'g', 3, 64) + "M"
	case r >= 1e3:
		return strconv.FormatFloat(r/1e3, 'g', 3, 64) + "k"
	case r >= 100:
		return strconv.FormatFloat(math.Round(r), 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'g', 3, 64)
}

// The chart's geometry, in SVG user units.
const (
	chartWidth  = 640
	chartHeight = 180
	chartLeft   = 48 // room for the y labels
	chartRight  = 8
	chartTop    = 10
	chartBottom = 22 // room for the x labels
)

// chartView is the SVG chart of points per second.
type chartView struct {
	Width, Height      int
	Left, Right        float64 // x of the plot area's edges
	Top, Bottom        float64 // y of the plot area's edges
	Points             string  // the polyline's points; "" without data
	YLabels            []chartLabel
	XLabels            []chartLabel
	Empty              string // what to say instead of a line
	Max, Latest, Count string
}

// chartLabel is an axis label at X, Y, its text-anchor Anchor; Line is
// the y of its grid line.
type chartLabel struct {
	X, Y, Line float64
	Anchor     string
	Text       string
}

// newChart draws rates over rateWindow ending at the newest one, with a
// y axis from zero to a round number above the highest rate.
func newChart(rates []rateSample) chartView {
	c := chartView{
		Width: chartWidth, Height: chartHeight,
		Left: chartLeft, Right: chartWidth - chartRight,
		Top: chartTop, Bottom: chartHeight - chartBottom,
	}
	top := 0.0
	for _, r := range rates {
		top = max(top, r.PerSecond)
	}
	top = niceCeil(top)
	for _, frac := range []float64{0, 0.5, 1} {
		y := c.Bottom - frac*(c.Bottom-c.Top)
		c.YLabels = append(c.YLabels, chartLabel{X: c.Left - 6, Y: y + 4, Line: y, Anchor: "end", Text: formatRate(frac * top)})
	}
	minutes := int(rateWindow / time.Minute)
	for _, m := range []int{minutes, minutes / 2, 0} {
		text, anchor := fmt.Sprintf("-%dm", m), "middle"
		switch m {
		case minutes:
			anchor = "start"
		case 0:
			text, anchor = "now", "end"
		}
		x := c.Right - float64(m)/float64(minutes)*(c.Right-c.Left)
		c.XLabels = append(c.XLabels, chartLabel{X: x, Y: float64(chartHeight) - 6, Anchor: anchor, Text: text})
	}
	if len(rates) == 0 {
		c.Empty = "no data yet: the rate is sampled every " + rateEvery.String()
		return c
	}
	end := rates[len(rates)-1].Time
	var b strings.Builder
	for _, r := range rates {
		age := end.Sub(r.Time)
		if age > rateWindow {
			continue
		}
		x := c.Right - float64(age)/float64(rateWindow)*(c.Right-c.Left)
		y := c.Bottom - r.PerSecond/top*(c.Bottom-c.Top)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	c.Points = b.String()
	c.Max = formatRate(top)
	c.Latest = formatRate(rates[len(rates)-1].PerSecond)
	c.Count = strconv.Itoa(len(rates))
	return c
}

// niceCeil returns the smallest of 1, 2 and 5 times a power of ten that
// is at least f (and 1 for f at most 1), so that axis labels are round.
func niceCeil(f float64) float64 {
	if f <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(f)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= f {
			return m * p
		}
	}
	return 10 * p
}

// errorText is err's message, or "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
