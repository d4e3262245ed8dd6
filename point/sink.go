package point

import (
	"context"
	"errors"
	"time"
)

// Batch is what an input hands to a Sink: points of one category, with where
// they came from.
type Batch struct {
	Category Category
	// Input names the input that produced the points (DataKit's "input",
	// for example a Python collector's name).
	Input string
	// Source is DataKit's "source" (the pipeline script name), if any.
	Source string
	// Version is the input's version, if the client sent one.
	Version string
	// Points are the data. They may alias a decoder's buffers and are only
	// valid during the Write call that receives them.
	Points []Point
}

// Clone returns a deep copy of b that a sink may keep after Write returns.
func (b Batch) Clone() Batch {
	c := b
	if b.Points != nil {
		c.Points = make([]Point, len(b.Points))
		for i := range b.Points {
			c.Points[i] = b.Points[i].Clone()
		}
	}
	return c
}

// Sink receives batches of points. It is the one contract every input of
// collectkit ends in.
//
// Write must not modify b or keep any part of it after returning; a Sink
// that keeps points stores b.Clone(). Write must be safe for concurrent use.
// An error that means "try again later" (a full buffer, a backend that is
// down) matches ErrBusy under errors.Is; any other error is permanent for
// that batch. A nil error means the sink has accepted every point.
type Sink interface {
	Write(ctx context.Context, b Batch) error
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(ctx context.Context, b Batch) error

// Write calls f(ctx, b).
func (f SinkFunc) Write(ctx context.Context, b Batch) error { return f(ctx, b) }

// Discard returns a Sink that accepts and drops every batch.
func Discard() Sink { return SinkFunc(func(context.Context, Batch) error { return nil }) }

// MultiSink returns a Sink that writes each batch to every sink in order,
// even when one fails, and returns their errors joined with errors.Join. The
// result matches ErrBusy if any sink's error does.
func MultiSink(sinks ...Sink) Sink {
	s := append([]Sink(nil), sinks...)
	return SinkFunc(func(ctx context.Context, b Batch) error {
		var errs []error
		for _, sk := range s {
			if err := sk.Write(ctx, b); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

// ErrBusy is matched (with errors.Is) by every error that means the sink
// cannot take the batch now but may later. HTTP inputs answer it with 429
// or 503 and Retry-After.
var ErrBusy = errors.New("point: sink busy, try again later")

// BusyError is a "try later" error with an optional hint of when.
type BusyError struct {
	RetryAfter time.Duration // zero: no hint
	Err        error         // the cause; may be nil
}

// Error describes the condition.
func (e *BusyError) Error() string {
	msg := ErrBusy.Error()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrBusy.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Unwrap returns the cause.
func (e *BusyError) Unwrap() error { return e.Err }

// Busy returns an error that matches ErrBusy, wraps cause (which may be
// nil) and suggests retrying after retryAfter (zero for no suggestion).
func Busy(cause error, retryAfter time.Duration) error {
	return &BusyError{RetryAfter: retryAfter, Err: cause}
}

// RetryAfter returns the retry hint of the first BusyError in err's chain.
// It returns false if err does not match ErrBusy; a busy error without a hint
// gives (0, true).
func RetryAfter(err error) (time.Duration, bool) {
	var be *BusyError
	if errors.As(err, &be) {
		return be.RetryAfter, true
	}
	return 0, errors.Is(err, ErrBusy)
}
