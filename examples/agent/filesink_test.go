package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

func linePoints(start, n int) []point.Point {
	pts := make([]point.Point, n)
	for i := range pts {
		p := point.New("fs", time.Unix(1700000000, int64(start+i)))
		p.AddTag("id", fmt.Sprint(start+i))
		p.AddField("v", point.IntValue(int64(start+i)))
		pts[i] = p
	}
	return pts
}

func TestFileSinkAcknowledgesWhatIsInTheFile(t *testing.T) {
	for _, policy := range []forward.SyncPolicy{forward.SyncAlways, forward.SyncInterval, forward.SyncNever} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, err := newFileSink(dir, fileSinkOptions{Sync: policy, SyncInterval: 10 * time.Millisecond})
			require.NoError(t, err)
			defer s.Close()
			require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Logging, Points: linePoints(0, 2)}))
			// No wait: once Write has returned, the lines are in the file.
			b, err := os.ReadFile(filepath.Join(dir, "logging.lp"))
			require.NoError(t, err)
			assert.Equal(t, "fs,id=0 v=0i 1700000000000000000\nfs,id=1 v=1i 1700000000000000001\n", string(b))
		})
	}
}

func TestFileSinkRollsBackARefusedBatch(t *testing.T) {
	dir := t.TempDir()
	s, err := newFileSink(dir, fileSinkOptions{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(0, 1)}))
	// More than one chunk of good lines is written before the bad point.
	pts := linePoints(1, 20000)
	pts = append(pts, point.Point{Name: "nan", Fields: []point.Field{{Key: "v", Value: point.FloatValue(math.NaN())}}})
	err = s.Write(context.Background(), point.Batch{Category: point.Metric, Points: pts})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metric point 20000 (nan)")
	b, err := os.ReadFile(filepath.Join(dir, "metric.lp"))
	require.NoError(t, err)
	assert.Equal(t, "fs,id=0 v=0i 1700000000000000000\n", string(b), "nothing of a refused batch stays")
	require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(1, 1)}))
	assert.Len(t, readLines(t, filepath.Join(dir, "metric.lp")), 2)
}

func TestFileSinkRepairsATornTailAtStart(t *testing.T) {
	tests := []struct {
		name, content, want string
		removed             int
	}{
		{"torn last line", "a v=1i 1\nb v=2", "a v=1i 1\n", 5},
		{"only a torn line", "b v=2", "", 5},
		{"intact", "a v=1i 1\n", "a v=1i 1\n", 0},
		{"empty", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "metric.lp")
			require.NoError(t, os.WriteFile(name, []byte(tt.content), 0o644))
			var logs testkit.SyncBuffer
			s, err := newFileSink(dir, fileSinkOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			b, err := os.ReadFile(name)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b), "repaired before anything is appended")
			if tt.removed > 0 {
				assert.Contains(t, logs.String(), fmt.Sprintf("bytes_removed=%d", tt.removed))
			} else {
				assert.NotContains(t, logs.String(), "torn")
			}
			require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(0, 1)}))
			require.NoError(t, s.Close())
			b, err = os.ReadFile(name)
			require.NoError(t, err)
			assert.Equal(t, tt.want+"fs,id=0 v=0i 1700000000000000000\n", string(b))
		})
	}
}

// TestFileSinkFullDisk: on a full file system a write is busy (an HTTP
// client gets 429), nothing of it stays (no torn line), what was
// acknowledged is all there, and writes succeed again once space is freed,
// without a restart.
func TestFileSinkFullDisk(t *testing.T) {
	fs := testkit.MountTmpfs(t, "64k")
	filler := filepath.Join(fs, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 32<<10), 0o644))
	out := filepath.Join(fs, "out")
	var logs testkit.SyncBuffer
	s, err := newFileSink(out, fileSinkOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer s.Close()

	acked := 0
	var busy error
	for i := 0; i < 1000 && busy == nil; i++ {
		if busy = s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(acked, 100)}); busy == nil {
			acked += 100
		}
	}
	require.Error(t, busy, "the 64 KiB file system never filled up")
	require.ErrorIs(t, busy, point.ErrBusy)
	assert.ErrorIs(t, busy, syscall.ENOSPC)
	assert.NotContains(t, busy.Error(), fs, "the client is not told server paths")
	assert.Contains(t, logs.String(), filepath.Join(out, "metric.lp"), "the log is")
	name := filepath.Join(out, "metric.lp")
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Equal(t, acked, strings.Count(string(b), "\n"), "every acknowledged line, and nothing else")
	assert.True(t, strings.HasSuffix(string(b), "\n"), "no torn line")

	require.ErrorIs(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(acked, 100)}), point.ErrBusy, "still full")
	require.NoError(t, os.Remove(filler))
	for range 3 {
		require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(acked, 100)}), "space is back")
		acked += 100
	}
	require.NoError(t, s.Close())
	assert.Len(t, readLines(t, name), acked)
}

func TestFileSinkKeepsNoLargeBuffer(t *testing.T) {
	s, err := newFileSink(t.TempDir(), fileSinkOptions{Sync: forward.SyncNever})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Points: linePoints(0, 100000)}))
	cf, err := s.file(point.Metric)
	require.NoError(t, err)
	assert.LessOrEqual(t, cap(cf.buf), maxKeptBuffer, "a large batch is written in chunks and its buffer not kept")
}
