package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/collectkit/collectkit/forward"
)

// forwarder runs a forward.Forwarder for the agent's [sink] kind "influx".
type forwarder struct {
	sink   *forward.Forwarder
	cancel context.CancelFunc
	done   chan error
}

func newForwarder(ctx context.Context, cfg SinkConfig, baseDir string, logger *slog.Logger) (*forwarder, error) {
	dir := cfg.BufferDir
	switch {
	case dir == "":
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "collectkit-agent", "forward")
	case !filepath.IsAbs(dir):
		dir = filepath.Join(baseDir, dir)
	}
	f, err := forward.New(forward.Options{
		URL:            cfg.URL,
		Token:          cfg.Token,
		BufferDir:      dir,
		BufferMaxBytes: cfg.BufferMaxBytes,
		Sync:           cfg.Sync,
		SyncInterval:   time.Duration(cfg.SyncInterval),
		Logger:         logger.With("component", "forward"),
	})
	if err != nil {
		return nil, err
	}
	// The forwarder outlives the agent's own context so that it can flush
	// what the inputs accepted during shutdown; close stops it.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	fw := &forwarder{sink: f, cancel: cancel, done: make(chan error, 1)}
	log := logger.With("component", "forward")
	go func() {
		err := f.Run(runCtx)
		if runCtx.Err() == nil {
			// Run ends only when its context is done; anything else means
			// delivery has stopped and every later Write fails.
			log.Error("forward: delivery stopped before the agent asked it to; the sink now refuses every point", "err", err)
		}
		fw.done <- err
	}()
	return fw, nil
}

// close stops delivery after the forwarder's bounded final flush; what is
// left stays in the on-disk buffer for the next start.
func (f *forwarder) close() error {
	f.cancel()
	err := <-f.done
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
