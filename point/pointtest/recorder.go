package pointtest

import (
	"context"
	"sync"

	"github.com/collectkit/collectkit/point"
)

// Recorder is a point.Sink that records a deep copy of every batch it is
// given. Its zero value is ready to use and it is safe for concurrent use.
// Err, when set before use, is returned by every Write (the batch is still
// recorded), so tests can exercise error paths of their inputs.
type Recorder struct {
	Err error

	mu      sync.Mutex
	batches []point.Batch
	notify  chan struct{}
}

// Write records a clone of b and returns r.Err.
func (r *Recorder) Write(_ context.Context, b point.Batch) error {
	c := b.Clone()
	r.mu.Lock()
	r.batches = append(r.batches, c)
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
	r.mu.Unlock()
	return r.Err
}

// Batches returns the recorded batches in the order they arrived.
func (r *Recorder) Batches() []point.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]point.Batch(nil), r.batches...)
}

// Points returns the points of every recorded batch, in order.
func (r *Recorder) Points() []point.Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	var pts []point.Point
	for _, b := range r.batches {
		pts = append(pts, b.Points...)
	}
	return pts
}

// Len returns the number of points recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.batches {
		n += len(b.Points)
	}
	return n
}

// Reset forgets every recorded batch.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.batches = nil
	r.mu.Unlock()
}

// WaitLen blocks until at least n points have been recorded or ctx is
// done, and returns the recorded count and ctx's error in the latter case.
func (r *Recorder) WaitLen(ctx context.Context, n int) (int, error) {
	for {
		r.mu.Lock()
		got := 0
		for _, b := range r.batches {
			got += len(b.Points)
		}
		if got >= n {
			r.mu.Unlock()
			return got, nil
		}
		if r.notify == nil {
			r.notify = make(chan struct{})
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}
