package forward

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// TestFullFileSystemRecoversWithoutRestart is the reproduction of a buffer
// on a small file system: with the backend down, writes fail busy (429 at
// an HTTP input) once the disk is full; after the backend is back and
// everything is delivered, 1,000-line batches are accepted again although
// the buffer never reached BufferMaxBytes.
func TestFullFileSystemRecoversWithoutRestart(t *testing.T) {
	dir := testkit.MountTmpfs(t, "512k")
	var down atomic.Bool
	down.Store(true)
	be := newLPBackend(t, func(_ int, _ http.ResponseWriter) int {
		if down.Load() {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	var logs logBuffer
	f, err := New(Options{URL: be.URL + "/write", BufferDir: filepath.Join(dir, "buf"), BufferMaxBytes: 64 << 20,
		FlushInterval: time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: logs.logger()})
	require.NoError(t, err)
	runForwarder(t, f)

	// Fill the file system: 1,000-line batches until one is refused.
	written := 0
	var busy error
	for i := 0; i < 100 && busy == nil; i++ {
		if err := f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(written, 1000)}); err != nil {
			busy = err
			break
		}
		written += 1000
	}
	require.Error(t, busy, "the 512 KiB file system never filled up")
	require.ErrorIs(t, busy, point.ErrBusy)
	assert.ErrorIs(t, busy, syscall.ENOSPC)
	assert.NotContains(t, busy.Error(), dir, "the error a client may see does not name the server's files")
	assert.Contains(t, logs.String(), dir, "the log does")
	require.Positive(t, written)

	down.Store(false)
	flush(t, f, 20*time.Second)
	require.Zero(t, f.Stats().BufferedPoints)

	// Several file systems' worth of batches, each accepted at once.
	for range 30 {
		require.NoError(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(written, 1000)}),
			"after delivery a write fits again; stats %+v", f.Stats())
		written += 1000
		flush(t, f, 20*time.Second)
	}
	missing, dups := be.check(written)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
}

// TestDeliveryResumesSoonAfterAnOutage: after the backend has refused
// connections for several seconds (the back-off would have grown past
// them under MaxBackoff), delivery resumes within MaxConnectBackoff of
// its return.
func TestDeliveryResumesSoonAfterAnOutage(t *testing.T) {
	// An address of its own on loopback: a port freed on 127.0.0.1 may be
	// taken by another test's server during the outage.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens: connections are refused

	const outage = 6 * time.Second
	f, err := New(Options{URL: "http://" + addr + "/write", BufferDir: t.TempDir(), FlushInterval: time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, f.opts.MaxConnectBackoff, "the default")
	runForwarder(t, f)
	writeAll(t, f, 0, 1000, 100)
	time.Sleep(outage)
	st := f.Stats()
	require.Zero(t, st.PointsSent)
	// Without the cap the 8th or so retry of a 100ms back-off doubling to
	// 30s would be several seconds away.
	assert.GreaterOrEqual(t, st.Retries, int64(6), "stats %+v", st)

	be := newLPBackend(t, nil)
	be.Close() // replace its listener by one on the refused address
	ln, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(be.Config.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	back := time.Now()
	retriesAtReturn := f.Stats().Retries

	flush(t, f, 10*time.Second)
	resumed := time.Since(back)
	missing, _ := be.check(1000)
	assert.Zero(t, missing)
	// Generous: the cap plus time for the requests themselves.
	assert.Less(t, resumed, 2*time.Second+1500*time.Millisecond, "delivery resumed %v after the backend's return", resumed)
	// At most one more retry per sender was needed.
	assert.LessOrEqual(t, f.Stats().Retries-retriesAtReturn, int64(2*f.opts.Concurrency))
}

func TestRetryDelay(t *testing.T) {
	f := &Forwarder{opts: Options{}.withDefaults()}
	refused := sendResult{err: errors.New("dial tcp: connection refused")}
	for attempt := range 40 {
		assert.LessOrEqual(t, f.retryDelay(refused, attempt), f.opts.MaxConnectBackoff, "attempt %d", attempt)
	}
	// A backend that answers still gets the full back-off.
	assert.Greater(t, f.retryDelay(sendResult{status: 503}, 30), f.opts.MaxConnectBackoff)
	assert.Equal(t, 7*time.Second, f.retryDelay(sendResult{status: 429, retryAfter: 7 * time.Second}, 0))
	// The cap never exceeds MaxBackoff.
	assert.Equal(t, time.Second, Options{MaxBackoff: time.Second}.withDefaults().MaxConnectBackoff)
	assert.ErrorContains(t, (&Options{URL: "http://x/write", BufferDir: "d", MaxConnectBackoff: -1}).Validate(), "Options.MaxConnectBackoff is negative")
}
