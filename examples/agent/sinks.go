package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// lineSink writes every point it receives as one line of line protocol to
// w. It is safe for concurrent use; lines of one batch stay together.
type lineSink struct {
	mu  sync.Mutex
	w   io.Writer
	enc protocol.LineEncoder
	buf []byte
}

func newLineSink(w io.Writer) *lineSink { return &lineSink{w: w} }

func (s *lineSink) Write(_ context.Context, b point.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf, err := appendLines(&s.enc, s.buf[:0], b)
	s.buf = buf
	if err != nil {
		return err
	}
	if _, err := s.w.Write(buf); err != nil {
		return fmt.Errorf("stdout sink: %w", err)
	}
	return nil
}

// appendLines encodes all of b's points, or none: a point line protocol
// cannot carry fails the whole batch with an error naming it, and nothing of
// the batch is written (a partial write followed by an error would make the
// client's retry store the rest twice).
func appendLines(enc *protocol.LineEncoder, dst []byte, b point.Batch) ([]byte, error) {
	start := len(dst)
	for i, p := range b.Points {
		out, err := enc.Append(dst, p)
		if err != nil {
			return dst[:start], fmt.Errorf("%s point %d (%s): %w", b.Category, i, p.Name, err)
		}
		dst = out
	}
	return dst, nil
}

// fileSink appends every point to DIR/<category>.lp, one line each. Data is
// buffered and flushed at least once per flushEvery, and on Close.
type fileSink struct {
	dir string

	mu    sync.Mutex
	enc   protocol.LineEncoder
	buf   []byte
	files map[point.Category]*catFile
	stop  chan struct{}
	done  chan struct{}
}

type catFile struct {
	f *os.File
	w *bufio.Writer
}

const flushEvery = 500 * time.Millisecond

func newFileSink(dir string) (*fileSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %q: %w", dir, err)
	}
	s := &fileSink{dir: dir, files: map[point.Category]*catFile{}, stop: make(chan struct{}), done: make(chan struct{})}
	go s.flushLoop()
	return s, nil
}

func (s *fileSink) Write(_ context.Context, b point.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cf, err := s.file(b.Category)
	if err != nil {
		return err
	}
	buf, err := appendLines(&s.enc, s.buf[:0], b)
	s.buf = buf
	if err != nil {
		return err
	}
	if _, err := cf.w.Write(buf); err != nil {
		return fmt.Errorf("writing %s: %w", cf.f.Name(), err)
	}
	return nil
}

func (s *fileSink) file(c point.Category) (*catFile, error) {
	if cf, ok := s.files[c]; ok {
		return cf, nil
	}
	name := filepath.Join(s.dir, c.String()+".lp")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	cf := &catFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	s.files[c] = cf
	return cf, nil
}

func (s *fileSink) flushLoop() {
	defer close(s.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			_ = s.flushLocked()
			s.mu.Unlock()
		}
	}
}

func (s *fileSink) flushLocked() error {
	var errs []error
	for _, cf := range s.files {
		if err := cf.w.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("flushing %s: %w", cf.f.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Close flushes and closes every file.
func (s *fileSink) Close() error {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := []error{s.flushLocked()}
	for _, cf := range s.files {
		errs = append(errs, cf.f.Close())
	}
	return errors.Join(errs...)
}
