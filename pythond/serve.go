package pythond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/collectkit/collectkit/internal/backoff"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/datakit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
	"github.com/collectkit/collectkit/pythond/internal/wire"
)

// DefaultMaxReportBytes is the largest report payload accepted when
// Options.MaxReportBytes is zero.
const DefaultMaxReportBytes = 256 << 20

// frameServer handles the frames of one Python process. It is used by one
// goroutine only.
//
// The channel is a pair of pipes, the process's descriptors 3 and 4 (named
// in COLLECTKIT_PYTHOND_FDS): length-prefixed frames come in on the first
// and answers go out on the second. A report's payloads are written by
// marshal.dumps(points, 2) in chunks of 128 points doubling up to 8,192
// (_collectkit_channel.py), so that the host decodes and normalizes one
// chunk while the script encodes the next. marshal is several times faster
// than json.dumps (0.24 ms against 1.5 ms for 1,000 typical points), which
// is most of what a report costs a script; version 2 of its format has no
// back-references and writes every str as UTF-8, and internal/wire reads
// exactly that subset with a strict, bounded decoder (its FORMAT.md is the
// one specification of the frames and payloads). Forked processes take
// turns through flock on the lock file named in COLLECTKIT_PYTHOND_LOCK,
// holding it for a whole exchange (a report's frames and its answer, or a
// log record), so answers are read one at a time and no process reads
// another's.
type frameServer struct {
	s   *Supervisor
	in  *resolvedInput
	ack io.Writer
	buf []byte // ack and payload buffer

	// frames are the handlers of the framework's own frame kinds; meta is
	// their meta buffer.
	frames map[byte]func(ctx context.Context, meta, payload []byte)
	meta   []byte
	// noCollectors is set when the runner says it found nothing to run
	// (before it exits); read once the server has returned.
	noCollectors bool

	// The report being received: its chunks, each decoded into its own
	// slot (points alias the slot's payload and decoder), then normalized
	// together and written to the sink after the last.
	slots   []*chunkSlot
	nslots  int
	elems   int // points decoded so far, for the index in errors
	written int // points the sink took
	bytes   int // payload bytes of the report so far
	points  []point.Point
	warns   []point.Warning // the decoder's warnings, then normalization's
	res     constraint.Result
	failure *reportFailure
}

// chunkSlot holds one decoded chunk of a report.
type chunkSlot struct {
	dec     wire.Decoder
	payload []byte
	tags    []point.Tag // slab for points that get the input's tags
}

// reportFailure is why a report is refused, with DataKit's error code.
type reportFailure struct {
	code string
	err  error
}

// serve reads frames from r until EOF, writes the points of each report
// to the sink and answers it on ack; frames of the framework's own kinds
// go to fs.frames. A frame cut short (the process died while writing it)
// is dropped, and so is the report it belongs to.
func (fs *frameServer) serve(ctx context.Context, r io.Reader) {
	in := fs.in
	fr := wire.NewReader(r)
	for {
		h, err := fr.Header()
		if err == nil {
			handle, own := fs.frames[h.Kind]
			switch {
			case h.Kind == wire.KindData:
				err = fs.data(ctx, fr, h)
			case h.Kind == wire.KindLog || h.Kind == wire.KindLastError || own:
				var meta, payload []byte
				if own {
					meta = append(fs.meta[:0], h.Meta...)
					fs.meta = meta
				}
				if payload, err = fr.Payload(fs.buf, h.PayloadLen); err == nil {
					fs.buf = payload
					switch {
					case own:
						guard(ctx, in, "frame "+string(rune(h.Kind)), func() { handle(ctx, meta, payload) })
					case h.Kind == wire.KindLog:
						fs.log(ctx, payload)
					default:
						fs.lastError(ctx, payload)
					}
				}
			default:
				in.logger.Warn("unknown frame from python process ignored", "kind", string(rune(h.Kind)))
				err = fr.Skip(h.PayloadLen)
			}
		}
		if err != nil {
			if fs.nslots > 0 || errors.Is(err, io.ErrUnexpectedEOF) {
				in.logger.Warn("incomplete report discarded: the python process stopped while sending it")
			}
			return
		}
	}
}

// guard runs f, turning a panic into an error logged with its stack,
// which it returns.
func guard(ctx context.Context, in *resolvedInput, what string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s panicked: %v", what, v)
			in.logger.ErrorContext(ctx, "host callback panicked", "callback", what, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	f()
	return nil
}

// reportError is the error text a script's report() returns, in the shape
// of DataKit's HTTP API errors.
type reportError struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func (fs *frameServer) fail(code string, err error) {
	if fs.failure == nil {
		fs.failure = &reportFailure{code: code, err: err}
	}
}

// data receives one chunk of a report; after the last it writes the
// report's points and answers.
func (fs *frameServer) data(ctx context.Context, fr *wire.Reader, h wire.Header) error {
	meta, err := wire.ParseDataMeta(h.Meta)
	if err != nil {
		fs.in.logger.Error("malformed frame from python process ignored", "err", err)
		return fr.Skip(h.PayloadLen)
	}
	if fs.nslots == len(fs.slots) {
		fs.slots = append(fs.slots, &chunkSlot{})
	}
	slot := fs.slots[fs.nslots]
	fs.nslots++
	cat, catErr := point.ParseCategory(meta.Category)
	fs.bytes += h.PayloadLen
	switch {
	case fs.bytes > fs.s.maxReport:
		if err := fr.Skip(h.PayloadLen); err != nil {
			return err
		}
		fs.fail(datakit.CodeBodyTooLarge, fmt.Errorf("report of %d bytes or more; the limit is %d", fs.bytes, fs.s.maxReport))
	case fs.failure != nil:
		// Refused already: read no more of it into memory.
		if err := fr.Skip(h.PayloadLen); err != nil {
			return err
		}
	default:
		if slot.payload, err = fr.Payload(slot.payload, h.PayloadLen); err != nil {
			return err
		}
		switch {
		case meta.Abort: // the script could not encode the rest
		case catErr != nil:
			fs.fail(datakit.CodeInvalidCategory, catErr)
		case fs.failure == nil:
			fs.decode(slot, meta, cat)
		}
	}
	if meta.More {
		return nil
	}

	input := meta.Input
	if input == "" {
		input = meta.Collector
	}
	if input == "" {
		input = fs.in.Name
	}
	if meta.Abort {
		fs.fail(datakit.CodeReportAborted, errors.New("the script failed to encode its points"))
	}
	if fs.failure == nil {
		fs.finish(ctx, cat, input, meta)
	}
	failure := fs.failure
	u := fs.in.unit
	u.reports.Add(1)
	if failure == nil {
		u.points.Add(uint64(fs.written))
		u.rejected.Add(uint64(len(fs.res.Rejected)))
	} else if n := fs.elems - fs.written; n > 0 {
		u.rejected.Add(uint64(n))
	}
	fs.reset()
	if failure == nil {
		fs.answer(meta.Seq, "")
		return nil
	}
	if meta.Input != "" {
		input = meta.Input
	} else {
		input = fs.in.Name
	}
	fs.in.logger.Warn("report refused", "collector", meta.Collector, "input", input, "category", meta.Category, "err", failure.err)
	fs.s.report(ctx, fs.in, CollectorError{Name: fs.in.Name, Input: input, Collector: meta.Collector, Kind: KindReport, Message: failure.err.Error()})
	text, _ := json.Marshal(reportError{Code: failure.code, Message: failure.err.Error()})
	fs.answer(meta.Seq, string(text))
	return nil
}

// finish normalizes the points of a report received whole, applies the
// constraint options as every path does (constraint.Normalizer.Deliver)
// and writes what is left to the sink.
func (fs *frameServer) finish(ctx context.Context, cat point.Category, input string, meta wire.DataMeta) {
	norm := fs.s.norm
	var dropped int
	fs.points, dropped, fs.warns = fs.s.runPipeline(ctx, fs.in, cat, fs.points, 0, fs.warns)
	if dropped > 0 && len(fs.points) == 0 {
		return // the pipeline dropped every point: nothing to write, no error
	}
	kept, err := norm.NormalizeBatch(fs.points, cat, &fs.res)
	if err != nil {
		fs.fail(datakit.CodeInvalidCategory, err)
		return
	}
	// OnWarnings gets the decoder's warnings too, as on the HTTP routes.
	fs.warns = append(fs.warns, fs.res.Warnings...)
	fs.res.Warnings = append(fs.res.Warnings[:0], fs.warns...)
	batch := point.Batch{Category: cat, Input: input, Version: meta.Version, Points: kept}
	var write bool
	var rejected error
	if err := guard(ctx, fs.in, "Constraint.OnWarnings", func() { write, rejected = norm.Deliver(ctx, batch, &fs.res) }); err != nil {
		fs.fail(datakit.CodeHostPanic, err)
		return
	}
	if len(fs.warns) > 0 && fs.in.logger.Enabled(ctx, slog.LevelDebug) {
		fs.in.logger.Debug("points fixed", "collector", meta.Collector, "input", input, "warnings", fmt.Sprint(fs.warns))
	}
	if rejected != nil {
		fs.fail(datakit.CodePointRejected, errors.New(rejectedMessage(&fs.res)))
	}
	switch {
	case write && len(kept) > 0:
		if err := fs.write(ctx, batch); err != nil {
			fs.failure = nil // the sink's failure is the one to answer
			fs.fail(datakit.CodeSinkFailed, err)
		} else {
			fs.written = len(kept)
		}
	case rejected == nil:
		// DataKit answers a body left without points 400 noPoints.
		fs.fail(datakit.CodeNoPoints, errors.New(datakit.NoPoints(fs.elems, datakit.Reasons(fs.warns, fs.where, nil))))
	}
}

// where tells where the point of warning j of the report was.
func (fs *frameServer) where(j int) string { return pointAt(fs.warns[j].Point) }

func pointAt(i int) string {
	if i < 0 {
		return ""
	}
	return "point " + strconv.Itoa(i)
}

// rejectedMessage names the first rejected point of r and how many more
// there are, as the HTTP routes do.
func rejectedMessage(r *constraint.Result) string {
	re := r.Rejected[0]
	msg := datakit.DescribeRejection(re.Rule.String(), re.Key, re.Message, pointAt(re.Point))
	if len(r.Rejected) > 1 {
		msg += fmt.Sprintf(" (and %d more points rejected)", len(r.Rejected)-1)
	}
	return msg
}

// reset forgets the report just answered; the slots are kept for reuse.
func (fs *frameServer) reset() {
	clear(fs.points) // let the payloads' strings go
	fs.points = fs.points[:0]
	fs.warns = fs.warns[:0]
	fs.res.Reset()
	fs.failure = nil
	fs.nslots = 0
	fs.elems = 0
	fs.bytes = 0
	fs.written = 0
}

// decode decodes one chunk (see internal/wire) into slot, adds the
// input's tags and appends the points to the report.
func (fs *frameServer) decode(slot *chunkSlot, meta wire.DataMeta, cat point.Category) {
	prec, err := protocol.ParsePrecision(meta.Precision)
	if err != nil {
		fs.fail(datakit.CodeInvalidPrecision, err)
		return
	}
	slot.dec.ExactInts = fs.in.ExactInts
	pts, warns, err := slot.dec.Decode(slot.payload, fs.elems, prec, time.Now())
	if err != nil {
		var de *protocol.DecodeErrors
		if errors.As(err, &de) {
			fs.elems += de.Valid + de.Invalid // refused with the report
		}
		// DataKit's code for such points sent to its JSON write API.
		fs.fail(datakit.CodeInvalidJSONPoint, err)
		return
	}
	fs.elems += len(pts)
	base := len(fs.points)
	for _, w := range warns {
		w.Point += base
		fs.warns = append(fs.warns, w)
	}
	if len(fs.in.tags) > 0 && !meta.IgnoreGlobalTags {
		fs.addTags(slot, pts)
	}
	// The decoder gives every point its own capped slices, so finish can
	// fix them in place.
	fs.points = append(fs.points, pts...)
}

// addTags gives every point the input's tags it does not have. Decoded
// tag slices share the decoder's slab, so each point gets a fresh slice
// carved from slot.tags instead of an append that could overwrite its
// neighbour's tags.
func (fs *frameServer) addTags(slot *chunkSlot, pts []point.Point) {
	slot.tags = slot.tags[:0]
	for i := range pts {
		p := &pts[i]
		start := len(slot.tags)
		slot.tags = append(slot.tags, p.Tags...)
		for _, t := range fs.in.tags {
			if _, ok := p.Tag(t.Key); !ok {
				slot.tags = append(slot.tags, t)
			}
		}
		p.Tags = slot.tags[start:len(slot.tags):len(slot.tags)]
	}
}

// write hands the batch to the sink, retrying for as long as the sink says
// it is busy (and ctx allows): a slow host slows the collector down instead
// of losing its data.
func (fs *frameServer) write(ctx context.Context, b point.Batch) error {
	return fs.s.writeBatch(ctx, fs.in, b)
}

// writeBatch hands b to the sink for in, retrying while the sink is busy.
func (s *Supervisor) writeBatch(ctx context.Context, in *resolvedInput, b point.Batch) error {
	// 10ms doubling up to a second, jittered so that collectors waiting
	// together do not retry together.
	busy := backoff.Exponential{Min: 10 * time.Millisecond, Max: time.Second, Jitter: 0.2}
	logged := false
	for attempt := 0; ; attempt++ {
		err := s.writeSink(ctx, in, b)
		if err == nil || !errors.Is(err, point.ErrBusy) {
			return err
		}
		if !logged {
			in.logger.Info("sink busy; the collector waits", "err", err)
			logged = true
		}
		d := busy.Delay(attempt)
		if hint, _ := point.RetryAfter(err); hint > 0 {
			d = hint
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (stopped while the sink was busy)", err)
		case <-t.C:
		}
	}
}

func (fs *frameServer) answer(seq, errText string) {
	fs.buf = wire.AppendAck(fs.buf[:0], seq, errText == "", errText)
	// A write error means the process is gone; serveFrames sees EOF next.
	_, _ = fs.ack.Write(fs.buf)
}

// logRecord is a record the framework logs (see datakit_framework._log).
type logRecord struct {
	Level     string `json:"level"`
	Collector string `json:"collector"`
	Event     string `json:"event"`
	Message   string `json:"message"`
	Traceback string `json:"traceback"`
	Input     string `json:"input"`  // lasterror only
	Reason    string `json:"reason"` // "no_collectors": the runner exits as it found nothing to run
	// run_end: how long the run took, and why it failed ("" when it did
	// not).
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error"`
}

var eventKinds = map[string]ErrorKind{
	"discover": KindDiscover,
	"import":   KindImport,
	"init":     KindInit,
	"config":   KindInit, // collectd: a config callback raised
	"run":      KindRun,
	"read":     KindRun, // collectd: a read callback raised
	"timeout":  KindTimeout,
}

func (fs *frameServer) log(ctx context.Context, payload []byte) {
	var rec logRecord
	if err := json.Unmarshal(payload, &rec); err != nil {
		fs.in.logger.Warn("malformed log record from python process", "err", err)
		return
	}
	// A run's start and end are the collector's status, not log records.
	switch rec.Event {
	case "run_start":
		fs.in.unit.runStarted(rec.Collector, time.Now())
		return
	case "run_end":
		fs.in.unit.runEnded(rec.Collector, time.Duration(rec.Seconds*float64(time.Second)), rec.Error)
		return
	case "timeout":
		fs.in.unit.overdue(rec.Collector)
	}
	level := slog.LevelInfo
	switch rec.Level {
	case "error", "critical":
		level = slog.LevelError
	case "warning":
		level = slog.LevelWarn
	case "debug":
		level = slog.LevelDebug
	}
	attrs := []any{"event", rec.Event}
	if rec.Collector != "" {
		attrs = append(attrs, "collector", rec.Collector)
	}
	if rec.Traceback != "" {
		attrs = append(attrs, "traceback", rec.Traceback)
	}
	fs.in.logger.Log(ctx, level, rec.Message, attrs...)
	if rec.Reason == "no_collectors" {
		fs.noCollectors = true
	}
	if kind, ok := eventKinds[rec.Event]; ok && level >= slog.LevelError {
		fs.s.report(ctx, fs.in, CollectorError{Name: fs.in.Name, Input: fs.in.Name, Collector: rec.Collector, Kind: kind, Message: rec.Message, Traceback: rec.Traceback})
	}
}

func (fs *frameServer) lastError(ctx context.Context, payload []byte) {
	var rec logRecord
	if err := json.Unmarshal(payload, &rec); err != nil {
		fs.in.logger.Warn("malformed last error from python process", "err", err)
		return
	}
	input := rec.Input
	if input == "" {
		input = fs.in.Name
	}
	fs.in.logger.Warn("collector set its last error", "collector", rec.Collector, "input", input, "message", rec.Message)
	fs.s.report(ctx, fs.in, CollectorError{Name: fs.in.Name, Input: input, Collector: rec.Collector, Kind: KindLastError, Message: rec.Message})
}

// writeSink calls the sink, turning a panic into an error (logged with
// its stack) for that batch.
func (s *Supervisor) writeSink(ctx context.Context, in *resolvedInput, b point.Batch) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sink panicked: %v", v)
			in.logger.ErrorContext(ctx, "host callback panicked", "callback", "Sink.Write", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	return s.sink.Write(ctx, b)
}
