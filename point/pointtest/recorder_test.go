package pointtest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

func TestRecorderConforms(t *testing.T) {
	var r pointtest.Recorder
	pointtest.TestSink(t, &r, r.Points)
}

// retainingSink keeps the caller's batch without cloning it: a contract
// violation the conformance test must catch.
type retainingSink struct {
	mu  sync.Mutex
	pts []point.Point
}

func (s *retainingSink) Write(_ context.Context, b point.Batch) error {
	s.mu.Lock()
	s.pts = append(s.pts, b.Points...)
	s.mu.Unlock()
	return nil
}

func (s *retainingSink) points() []point.Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]point.Point(nil), s.pts...)
}

func TestConformanceCatchesRetainingSink(t *testing.T) {
	s := &retainingSink{}
	err := pointtest.Check(s, s.points)
	require.Error(t, err, "a sink that retains the caller's batch must fail the conformance test")
	assert.Contains(t, err.Error(), "not received unchanged")
}

func TestConformanceCatchesFailingSink(t *testing.T) {
	r := &pointtest.Recorder{Err: errors.New("disk full")}
	err := pointtest.Check(r, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
}

func TestRecorderWaitLen(t *testing.T) {
	var r pointtest.Recorder
	go func() {
		time.Sleep(10 * time.Millisecond)
		_ = r.Write(context.Background(), point.Batch{Category: point.Metric, Points: []point.Point{{Name: "a"}, {Name: "b"}}})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := r.WaitLen(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	_, err = r.WaitLen(short, 3)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
