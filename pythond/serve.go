package pythond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// busyBackoff bounds the wait between retries of a sink that is busy.
const (
	busyBackoffMin = 10 * time.Millisecond
	busyBackoffMax = time.Second
)

// frameServer handles the frames of one Python process. It is used by one
// goroutine only.
type frameServer struct {
	s    *Supervisor
	in   *resolvedInput
	ack  io.Writer
	dec  protocol.Decoder
	tags []point.Tag // slab for points that get the input's tags
	buf  []byte      // ack buffer
}

// serveFrames reads frames from r until EOF, writes the points of data
// frames to the sink and answers each on ack. A frame cut short (the
// process died while writing it) is dropped whole.
func (s *Supervisor) serveFrames(ctx context.Context, in *resolvedInput, r io.Reader, ack io.Writer) {
	fs := &frameServer{s: s, in: in, ack: ack}
	fr := newFrameReader(r, s.maxReport)
	for {
		f, err := fr.next()
		switch {
		case errors.Is(err, io.EOF):
			return
		case errors.Is(err, io.ErrUnexpectedEOF):
			in.logger.Warn("incomplete report discarded: the python process stopped while sending it")
			return
		}
		switch f.Kind {
		case kindData:
			fs.data(ctx, f, err)
		case kindLog:
			fs.log(ctx, f.Payload)
		case kindLastError:
			fs.lastError(ctx, f.Payload)
		default:
			in.logger.Warn("unknown frame from python process ignored", "kind", string(rune(f.Kind)))
		}
	}
}

// reportError is the error text a script's report() returns, in the shape
// of DataKit's HTTP API errors.
type reportError struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func (fs *frameServer) data(ctx context.Context, f frame, readErr error) {
	meta, err := parseDataMeta(f.Meta)
	if err != nil {
		fs.in.logger.Error("malformed frame from python process", "err", err)
		return
	}
	var code string
	var batch point.Batch
	switch {
	case readErr != nil:
		code, err = "datakit.requestEntityTooLarge", readErr
	default:
		code, batch, err = fs.decode(meta, f.Payload)
		if err == nil {
			code, err = "collectkit.sinkFailed", fs.write(ctx, batch)
			if errors.Is(err, constraint.ErrRejected) {
				code = "datakit.pointRejected"
			}
		}
	}
	if err == nil {
		fs.answer(meta.Seq, "")
		return
	}
	input := meta.Input
	if input == "" {
		input = fs.in.Name
	}
	fs.in.logger.Warn("report refused", "collector", meta.Collector, "input", input, "category", meta.Category, "err", err)
	fs.s.report(ctx, CollectorError{Name: fs.in.Name, Input: input, Collector: meta.Collector, Kind: KindReport, Message: err.Error()})
	text, _ := json.Marshal(reportError{Code: code, Message: err.Error()})
	fs.answer(meta.Seq, string(text))
}

// decode turns a data frame into a batch. The points alias the payload and
// the decoder until the next frame.
func (fs *frameServer) decode(meta dataMeta, payload []byte) (string, point.Batch, error) {
	cat, err := point.ParseCategory(meta.Category)
	if err != nil {
		return "datakit.invalidCategory", point.Batch{}, err
	}
	prec, err := protocol.ParsePrecision(meta.Precision)
	if err != nil {
		return "datakit.invalidPrecision", point.Batch{}, err
	}
	pts, warns, err := fs.dec.DecodeJSON(payload, protocol.Options{Precision: prec, ExactInts: true})
	if err != nil {
		return "datakit.invalidJsonPoint", point.Batch{}, err
	}
	if len(warns) > 0 && fs.in.logger.Enabled(context.Background(), slog.LevelDebug) {
		fs.in.logger.Debug("report decoded with warnings", "collector", meta.Collector, "warnings", fmt.Sprint(warns))
	}
	if len(fs.in.tags) > 0 && !meta.IgnoreGlobalTags {
		fs.addTags(pts)
	}
	input := meta.Input
	if input == "" {
		input = meta.Collector
	}
	if input == "" {
		input = fs.in.Name
	}
	return "", point.Batch{Category: cat, Input: input, Version: meta.Version, Points: pts}, nil
}

// addTags gives every point the input's tags it does not have. Decoded
// tag slices share the decoder's slab, so each point gets a fresh slice
// carved from fs.tags instead of an append that could overwrite its
// neighbour's tags.
func (fs *frameServer) addTags(pts []point.Point) {
	fs.tags = fs.tags[:0]
	for i := range pts {
		p := &pts[i]
		start := len(fs.tags)
		fs.tags = append(fs.tags, p.Tags...)
		for _, t := range fs.in.tags {
			if _, ok := p.Tag(t.Key); !ok {
				fs.tags = append(fs.tags, t)
			}
		}
		p.Tags = fs.tags[start:len(fs.tags):len(fs.tags)]
	}
}

// write hands the batch to the sink, retrying for as long as the sink says
// it is busy (and ctx allows): a slow host slows the collector down instead
// of losing its data.
func (fs *frameServer) write(ctx context.Context, b point.Batch) error {
	wait := busyBackoffMin
	logged := false
	for {
		err := fs.s.sink.Write(ctx, b)
		if err == nil || !errors.Is(err, point.ErrBusy) {
			return err
		}
		if !logged {
			fs.in.logger.Info("sink busy; the collector waits", "err", err)
			logged = true
		}
		d := wait
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
		wait = min(wait*2, busyBackoffMax)
	}
}

func (fs *frameServer) answer(seq, errText string) {
	fs.buf = appendAck(fs.buf[:0], seq, errText == "", errText)
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
	Input     string `json:"input"` // lasterror only
}

var eventKinds = map[string]ErrorKind{
	"discover": KindDiscover,
	"import":   KindImport,
	"init":     KindInit,
	"run":      KindRun,
	"timeout":  KindTimeout,
}

func (fs *frameServer) log(ctx context.Context, payload []byte) {
	var rec logRecord
	if err := json.Unmarshal(payload, &rec); err != nil {
		fs.in.logger.Warn("malformed log record from python process", "err", err)
		return
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
	if kind, ok := eventKinds[rec.Event]; ok && level >= slog.LevelError {
		fs.s.report(ctx, CollectorError{Name: fs.in.Name, Input: fs.in.Name, Collector: rec.Collector, Kind: kind, Message: rec.Message, Traceback: rec.Traceback})
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
	fs.s.report(ctx, CollectorError{Name: fs.in.Name, Input: input, Collector: rec.Collector, Kind: KindLastError, Message: rec.Message})
}
