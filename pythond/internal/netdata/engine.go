package netdata

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/collectkit/collectkit/point"
)

// Engine turns plugins.d protocol lines into points: it keeps the charts
// that CHART, DIMENSION and CLABEL lines define and computes, at each END,
// the values Netdata would store for the integers the SET lines collected.
// Create one with [New]; one Engine serves one plugin process (a new
// process starts with new charts, so give it a new Engine). An Engine is
// not safe for concurrent use.
type Engine struct {
	opts                        Options
	maxLine, maxCharts, maxDims int
	maxLabels                   int
	log                         *slog.Logger
	charts                      map[string]*chart
	ndims                       int
	cur                         *chart      // the chart of the last CHART line
	pending                     []point.Tag // CLABELs waiting for CLABEL_COMMIT
	open                        *chart      // the chart between BEGIN and END
	discard                     bool        // between a failed BEGIN and its END
	openTime                    time.Time
	openMicros                  int64
	line                        int
	inFunctionResult            bool
	words                       [maxWords][]byte
}

// New returns an Engine with the given options; it does not keep opts'
// address.
func New(opts Options) *Engine {
	e := &Engine{
		opts:      opts,
		maxLine:   limit(opts.MaxLineBytes, DefaultMaxLineBytes),
		maxCharts: limit(opts.MaxCharts, DefaultMaxCharts),
		maxDims:   limit(opts.MaxDimensions, DefaultMaxDimensions),
		maxLabels: limit(opts.MaxLabels, DefaultMaxLabels),
		log:       opts.Logger,
		charts:    make(map[string]*chart),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Lines returns how many lines the Engine has been fed; it is the number
// of the last line, as LineError counts them.
func (e *Engine) Lines() int { return e.line }

// Feed reads one protocol line, collected at now, and appends to dst the
// point its END gives, if any (only END lines give points, at most one).
// The line may end in "\n" or "\r\n"; Feed does not keep it. The points
// alias nothing Feed will change: the caller may keep them, their tag and
// field slices are their own. For BEGIN, now is the update's collection
// time and becomes the point's time; for other lines it is unused.
//
// A bad line gives a *LineError wrapping one of the package sentinels;
// the Engine goes on with the next line. DISABLE gives ErrDisabled.
func (e *Engine) Feed(dst []point.Point, line []byte, now time.Time) ([]point.Point, error) {
	e.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if e.inFunctionResult {
		// A function result's payload is not protocol: skip it whole.
		if bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("FUNCTION_RESULT_END")) {
			e.inFunctionResult = false
		}
		return dst, nil
	}
	if over(len(line), e.maxLine) {
		return dst, e.errorf("", "%w: %d bytes, more than %d", ErrLineTooLong, len(line), e.maxLine)
	}
	n, err := splitWords(line, &e.words)
	if n == 0 {
		if err != nil {
			return dst, e.lineErr("", err)
		}
		return dst, nil // an empty line: python.d's keep-alive
	}
	w := e.words[:n]
	cmd := w[0]
	if err != nil {
		return dst, e.lineErr(string(cmd), err)
	}
	switch string(cmd) {
	case "BEGIN":
		return dst, e.begin(w, now)
	case "SET":
		return dst, e.set(w)
	case "END":
		return e.end(dst)
	case "CHART":
		return dst, e.chart(w)
	case "DIMENSION":
		return dst, e.dimension(w)
	case "CLABEL":
		return dst, e.clabel(w)
	case "CLABEL_COMMIT":
		return dst, e.clabelCommit()
	case "VARIABLE":
		return dst, nil // chart and host variables feed Netdata's alerts, not points
	case "FLUSH":
		e.closeUpdate()
		return dst, nil
	case "DISABLE":
		return dst, ErrDisabled
	case "FUNCTION_RESULT_BEGIN":
		e.inFunctionResult = true
		e.log.Debug("netdata: function result skipped", "line", e.line)
		return dst, nil
	}
	if ignored(cmd) {
		e.log.Debug("netdata: command ignored", "line", e.line, "command", string(cmd))
		return dst, nil
	}
	return dst, e.errorf(printable(cmd), "%w", ErrUnknownCommand)
}

// ignored reports whether cmd is a command of newer Netdata versions or
// of the streaming protocol that says nothing about chart values.
func ignored(cmd []byte) bool {
	for _, p := range [...]string{"FUNCTION", "CONFIG", "HOST", "DYNCFG"} {
		if bytes.HasPrefix(cmd, []byte(p)) {
			return true
		}
	}
	switch string(cmd) {
	case "CHART_DEFINITION_END", "CLAIMED_ID", "NODE_ID", "TRUST_DURATIONS", "EXIT", "QUIT":
		return true
	}
	return false
}

// printable returns cmd for an error message, cut to 32 bytes.
func printable(cmd []byte) string {
	if len(cmd) > 32 {
		return fmt.Sprintf("%q...", cmd[:32])
	}
	return fmt.Sprintf("%q", cmd)
}

func (e *Engine) lineErr(cmd string, err error) error {
	return &LineError{Line: e.line, Command: cmd, Err: err}
}

func (e *Engine) errorf(cmd, format string, args ...any) error {
	return e.lineErr(cmd, fmt.Errorf(format, args...))
}

// word returns w[i] as a string, or "" when the line has fewer words.
func word(w [][]byte, i int) string {
	if i < len(w) {
		return string(w[i])
	}
	return ""
}

// intWord parses the optional integer w[i]: an absent or empty word gives
// def.
func intWord(w [][]byte, i int, def int64) (int64, bool) {
	if i >= len(w) || len(w[i]) == 0 {
		return def, true
	}
	return parseInt(w[i])
}

// CHART type.id name title units [family [context [charttype [priority
// [update_every [options [plugin [module]]]]]]]]
func (e *Engine) chart(w [][]byte) error {
	const cmd = "CHART"
	if len(w) < 2 {
		return e.errorf(cmd, "%w: no chart id", ErrSyntax)
	}
	typ, id, ok := splitChartID(string(w[1]))
	if !ok {
		return e.errorf(cmd, "%w: chart id %q is not type.id", ErrBadValue, w[1])
	}
	if _, ok := intWord(w, 8, 0); !ok {
		return e.errorf(cmd, "%w: priority %q is not an integer", ErrBadValue, w[8])
	}
	if _, ok := intWord(w, 9, 0); !ok {
		return e.errorf(cmd, "%w: update_every %q is not an integer", ErrBadValue, w[9])
	}
	full := string(w[1])
	c := e.charts[full]
	if c == nil {
		if over(len(e.charts)+1, e.maxCharts) && !e.evictObsolete(c) {
			return e.errorf(cmd, "%w: chart %q would be number %d, the limit is %d", ErrTooManyCharts, full, len(e.charts)+1, e.maxCharts)
		}
		c = &chart{typ: typ, id: id, full: full, byID: make(map[string]*dim)}
		e.charts[full] = c
	}
	c.family = word(w, 5)
	c.context = word(w, 6)
	c.obsolete = false
	if len(w) > 10 {
		for _, o := range bytes.Fields(w[10]) {
			if string(o) == "obsolete" {
				c.obsolete = true
			}
		}
	}
	c.module = word(w, 12)
	if c.module == "" {
		c.module = e.opts.Module
	}
	if c.module == "" {
		c.module = typ
	}
	c.job = jobOf(typ, c.module)
	c.measurement = c.context
	if c.measurement == "" {
		c.measurement = c.module + "." + id
	}
	c.retag()
	e.cur = c
	return nil
}

// DIMENSION id [name [algorithm [multiplier [divisor [options]]]]]
func (e *Engine) dimension(w [][]byte) error {
	const cmd = "DIMENSION"
	c := e.cur
	if c == nil {
		return e.errorf(cmd, "%w: DIMENSION before any CHART", ErrNoChart)
	}
	if len(w) < 2 || len(w[1]) == 0 {
		return e.errorf(cmd, "%w: no dimension id", ErrSyntax)
	}
	mul, ok := intWord(w, 4, 1)
	if !ok {
		return e.errorf(cmd, "%w: multiplier %q is not an integer", ErrBadValue, w[4])
	}
	div, ok := intWord(w, 5, 1)
	if !ok {
		return e.errorf(cmd, "%w: divisor %q is not an integer", ErrBadValue, w[5])
	}
	// Netdata takes a zero multiplier or divisor as 1.
	if mul == 0 {
		mul = 1
	}
	if div == 0 {
		div = 1
	}
	var hidden, obsolete bool
	if len(w) > 6 {
		for _, o := range bytes.Fields(w[6]) {
			switch string(o) {
			case "hidden":
				hidden = true
			case "obsolete":
				obsolete = true
			}
		}
	}
	id := string(w[1])
	if obsolete {
		if c.removeDim(id) {
			e.ndims--
		}
		return nil
	}
	d := c.byID[id]
	if d == nil {
		for over(e.ndims+1, e.maxDims) {
			if !e.evictObsolete(c) {
				return e.errorf(cmd, "%w: dimension %q of chart %q would be number %d, the limit is %d", ErrTooManyDimensions, id, c.full, e.ndims+1, e.maxDims)
			}
		}
		d = &dim{id: id}
		c.byID[id] = d
		c.dims = append(c.dims, d)
		e.ndims++
	}
	d.name = word(w, 2)
	if d.name == "" {
		d.name = id
	}
	alg := parseAlgorithm(wordBytes(w, 3))
	if alg != d.alg {
		d.hasLast = false // the last value meant something else
	}
	d.alg, d.mul, d.div, d.hidden = alg, mul, div, hidden
	return nil
}

func wordBytes(w [][]byte, i int) []byte {
	if i < len(w) {
		return w[i]
	}
	return nil
}

// CLABEL name value source
func (e *Engine) clabel(w [][]byte) error {
	const cmd = "CLABEL"
	if len(w) < 2 || len(w[1]) == 0 {
		return e.errorf(cmd, "%w: no label name", ErrSyntax)
	}
	if over(len(e.pending)+1, e.maxLabels) {
		return e.errorf(cmd, "%w: more than %d labels before CLABEL_COMMIT", ErrTooManyLabels, e.maxLabels)
	}
	e.pending = append(e.pending, point.Tag{Key: string(w[1]), Value: word(w, 2)})
	return nil
}

// CLABEL_COMMIT: the waiting labels go to the chart of the last CHART.
func (e *Engine) clabelCommit() error {
	const cmd = "CLABEL_COMMIT"
	pending := e.pending
	e.pending = e.pending[:0]
	c := e.cur
	if c == nil {
		return e.errorf(cmd, "%w: CLABEL_COMMIT before any CHART", ErrNoChart)
	}
	var err error
	for _, l := range pending {
		if _, exists := c.byLabel(l.Key); !exists && over(len(c.labels)+1, e.maxLabels) {
			err = e.errorf(cmd, "%w: chart %q would have more than %d labels; label %q dropped", ErrTooManyLabels, c.full, e.maxLabels, l.Key)
			continue
		}
		c.setLabel(l.Key, l.Value)
	}
	c.retag()
	return err
}

func (c *chart) byLabel(k string) (string, bool) {
	for _, l := range c.labels {
		if l.Key == k {
			return l.Value, true
		}
	}
	return "", false
}

// BEGIN type.id [microseconds]
func (e *Engine) begin(w [][]byte, now time.Time) error {
	const cmd = "BEGIN"
	var err error
	if e.open != nil || e.discard {
		what := "a failed BEGIN"
		if e.open != nil {
			what = fmt.Sprintf("BEGIN %s", e.open.full)
		}
		err = e.errorf(cmd, "%w: BEGIN before the END of %s; its values are dropped", ErrSyntax, what)
		e.closeUpdate()
	}
	bad := func(e2 error) error {
		e.discard = true // the SET and END lines of this update are dropped quietly
		if err != nil {
			return err
		}
		return e2
	}
	if len(w) < 2 {
		return bad(e.errorf(cmd, "%w: no chart id", ErrSyntax))
	}
	c := e.charts[string(w[1])]
	if c == nil {
		return bad(e.errorf(cmd, "%w: %q", ErrUnknownChart, w[1]))
	}
	micros, ok := intWord(w, 2, 0)
	if !ok {
		return bad(e.errorf(cmd, "%w: microseconds %q are not an integer", ErrBadValue, w[2]))
	}
	e.open, e.openTime, e.openMicros = c, now, micros
	return err
}

// SET id = value
func (e *Engine) set(w [][]byte) error {
	const cmd = "SET"
	if e.discard {
		return nil
	}
	c := e.open
	if c == nil {
		return e.errorf(cmd, "%w: SET outside BEGIN ... END", ErrNoChart)
	}
	if len(w) < 3 || string(w[2]) != "=" {
		return e.errorf(cmd, "%w: want SET id = value", ErrSyntax)
	}
	d := c.byID[string(w[1])]
	if d == nil {
		return e.errorf(cmd, "%w: %q in chart %q", ErrUnknownDimension, w[1], c.full)
	}
	if len(w) < 4 || len(w[3]) == 0 {
		return nil // an empty value: not collected
	}
	v, ok := parseInt(w[3])
	if !ok {
		return e.errorf(cmd, "%w: value %q of %q is not a 64-bit integer", ErrBadValue, w[3], d.id)
	}
	d.set, d.cur = true, v
	return nil
}

// END
func (e *Engine) end(dst []point.Point) ([]point.Point, error) {
	if e.discard {
		e.closeUpdate()
		return dst, nil
	}
	c := e.open
	if c == nil {
		return dst, e.errorf("END", "%w: END without BEGIN", ErrNoChart)
	}
	e.open = nil
	if c.obsolete {
		c.dropUpdate()
		return dst, nil
	}
	if p, ok := c.compute(e.openTime, e.openMicros, e.opts.DimensionIDs); ok {
		dst = append(dst, p)
	}
	return dst, nil
}

// closeUpdate drops the open update's collected values (FLUSH).
func (e *Engine) closeUpdate() {
	if e.open != nil {
		e.open.dropUpdate()
	}
	e.open, e.discard = nil, false
}

// dropUpdate forgets the values of the open update. It still counts as
// an update, so that the next BEGIN's microseconds, which run from this
// one, are not taken as the time since the dimensions' last values.
func (c *chart) dropUpdate() {
	for _, d := range c.dims {
		d.set = false
	}
	c.rounds++
}

// evictObsolete forgets one obsolete chart other than keep, to make room
// for a new chart or dimension at a limit: plugins with changing charts
// (containers, disks) obsolete old ones for good, and those must not
// fill the limits forever. A forgotten chart that comes back starts
// afresh. It reports whether there was one.
func (e *Engine) evictObsolete(keep *chart) bool {
	for full, c := range e.charts {
		if !c.obsolete || c == keep {
			continue
		}
		delete(e.charts, full)
		e.ndims -= len(c.dims)
		if e.cur == c {
			e.cur = nil
		}
		if e.open == c {
			e.open, e.discard = nil, true
		}
		return true
	}
	return false
}

// maxJoined is how many line errors FeedLines returns at most.
const maxJoined = 10

// FeedLines feeds each line of text (the last one may lack its "\n") as
// [Engine.Feed] does, all collected at now, such as the lines of one
// update a plugin wrote at once. It appends the points to dst. The error
// joins (errors.Join) the first 10 line errors and, when there were more,
// one saying how many were left out. DISABLE stops it: the error then
// also matches ErrDisabled and the lines after it are not fed.
func (e *Engine) FeedLines(dst []point.Point, text []byte, now time.Time) ([]point.Point, error) {
	var errs []error
	more := 0
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i+1], text[i+1:]
		} else {
			text = nil
		}
		var err error
		dst, err = e.Feed(dst, line, now)
		if err == nil {
			continue
		}
		if len(errs) < maxJoined || errors.Is(err, ErrDisabled) {
			errs = append(errs, err)
		} else {
			more++
		}
		if errors.Is(err, ErrDisabled) {
			break
		}
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("netdata: %d more bad lines", more))
	}
	return dst, errors.Join(errs...)
}
