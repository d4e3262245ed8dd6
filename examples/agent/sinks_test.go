package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

func TestLineSinkWritesAllOrNothing(t *testing.T) {
	var out bytes.Buffer
	s := newLineSink(&out)
	good := point.Point{Name: "ok", Fields: []point.Field{{Key: "v", Value: point.IntValue(1)}}, Time: time.Unix(1, 0)}
	bad := point.Point{Name: "nan", Fields: []point.Field{{Key: "v", Value: point.FloatValue(math.NaN())}}}

	err := s.Write(context.Background(), point.Batch{Category: point.Metric, Points: []point.Point{good, bad}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metric point 1 (nan)")
	assert.Empty(t, out.String(), "nothing of a failed batch is written")

	require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: []point.Point{good}}))
	assert.Equal(t, "ok v=1i 1000000000\n", out.String())
}

func TestFileSinkConforms(t *testing.T) {
	dir := t.TempDir()
	s, err := newFileSink(dir, fileSinkOptions{})
	require.NoError(t, err)
	pointtest.TestSink(t, s, nil)
	require.NoError(t, s.Close())
	for _, c := range point.Categories() {
		b, err := os.ReadFile(filepath.Join(dir, c.String()+".lp"))
		require.NoError(t, err, c.String())
		assert.Contains(t, string(b), "conf_m", c.String())
	}
}

func TestUntilErrorStopsAtTheFirstFailure(t *testing.T) {
	var first, second pointtest.Recorder
	first.Err = point.Busy(nil, time.Second)
	s := untilError([]point.Sink{&first, &second})
	err := s.Write(context.Background(), point.Batch{Category: point.Metric, Points: []point.Point{{Name: "m"}}})
	require.ErrorIs(t, err, point.ErrBusy)
	assert.Equal(t, 1, first.Len())
	assert.Zero(t, second.Len(), "a sink after a failing one is not written, so a retry does not duplicate")

	first.Err = nil
	require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: []point.Point{{Name: "m"}}}))
	assert.Equal(t, 1, second.Len())
}
