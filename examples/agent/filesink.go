package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// fileSink appends every point to DIR/<category>.lp, one line each. A
// batch is acknowledged (Write returns nil) only once all its lines are in
// the file: written with write(2), so a kill -9 of the agent loses nothing
// acknowledged, and fsynced as the forwarder's SyncPolicy says (always:
// before Write returns, one fsync shared by concurrent writers; interval:
// every syncInterval; never: left to the system), which decides what
// survives a crash of the machine. A write that fails is rolled back (the
// file truncated to its size before it), so the file never holds a torn
// line or part of a refused batch; a full disk (ENOSPC, EDQUOT) is busy,
// and clears by itself once space returns. A torn last line left by a
// crash is cut off when the file is opened, at start.
type fileSink struct {
	dir          string
	sync         forward.SyncPolicy
	syncInterval time.Duration
	log          *slog.Logger

	mu        sync.Mutex // guards files
	files     map[point.Category]*catFile
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// catFile is one category's output file.
type catFile struct {
	cat  point.Category
	name string // for the log only: clients are not told server paths

	mu     sync.Mutex
	f      *os.File
	size   int64 // bytes of acknowledged lines
	broken bool  // a failed write could not be rolled back yet
	enc    protocol.LineEncoder
	buf    []byte
	seq    uint64 // writes so far

	syncMu sync.Mutex
	synced uint64 // writes known to be on stable storage (under syncMu)
}

// fileSinkOptions configure a fileSink; the zero value fsyncs every write.
type fileSinkOptions struct {
	Sync         forward.SyncPolicy
	SyncInterval time.Duration // for forward.SyncInterval; zero: 1s
	Logger       *slog.Logger  // nil: discard
}

// writeChunk is how much encoded data a Write holds before it writes it,
// so that a large batch costs a bounded buffer.
const writeChunk = 256 << 10

func newFileSink(dir string, opts fileSinkOptions) (*fileSink, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %q: %w", dir, err)
	}
	s := &fileSink{dir: dir, sync: opts.Sync, syncInterval: opts.SyncInterval, log: opts.Logger,
		files: map[point.Category]*catFile{}, stop: make(chan struct{}), done: make(chan struct{})}
	// Open (and repair) the files a previous run left, so that a torn
	// tail is cut off at start and not appended to.
	for _, c := range point.Categories() {
		if _, err := os.Stat(s.path(c)); err == nil {
			if _, err := s.file(c); err != nil {
				return nil, errors.Join(err, s.closeFiles())
			}
		}
	}
	go s.syncLoop()
	return s, nil
}

func (s *fileSink) path(c point.Category) string { return filepath.Join(s.dir, c.String()+".lp") }

// Write appends b's points to its category's file and returns once they
// are there (and fsynced, under SyncAlways). On an error nothing of b is
// kept; the error names the condition, the log names the file.
func (s *fileSink) Write(_ context.Context, b point.Batch) error {
	if len(b.Points) == 0 {
		return nil
	}
	cf, err := s.file(b.Category)
	if err != nil {
		return err
	}
	seq, err := cf.append(b, s.log)
	if err != nil {
		return err
	}
	if s.sync == forward.SyncAlways {
		cf.syncTo(seq, s.log)
	}
	return nil
}

// append writes the lines of b in chunks; a failure truncates the file
// back to its size before the batch.
func (cf *catFile) append(b point.Batch, log *slog.Logger) (uint64, error) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if cf.broken {
		if err := cf.rollback(cf.size); err != nil {
			log.Error("file sink: cutting off a failed write still fails; refusing writes", "file", cf.name, "err", err)
			return 0, cf.refuse("repairing the file after a failed write", err)
		}
	}
	start := cf.size
	buf := cf.buf[:0]
	defer func() { cf.buf = keepSmall(buf) }()
	written := int64(0)
	flush := func() error {
		n, err := cf.f.Write(buf)
		written += int64(n)
		buf = buf[:0]
		return err
	}
	for i, p := range b.Points {
		out, err := cf.enc.Append(buf, p)
		if err == nil && len(out) >= writeChunk {
			buf = out
			err = flush()
			if err != nil {
				return 0, cf.fail(start, written, err, log)
			}
			continue
		}
		if err != nil {
			if rerr := cf.rollbackAfter(start, written, log); rerr != nil {
				return 0, rerr
			}
			return 0, fmt.Errorf("%s point %d (%s): %w", b.Category, i, p.Name, err)
		}
		buf = out
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return 0, cf.fail(start, written, err, log)
		}
	}
	cf.size = start + written
	cf.seq++
	return cf.seq, nil
}

// fail rolls back a failed write and returns the error for the client.
func (cf *catFile) fail(start, written int64, err error, log *slog.Logger) error {
	log.Error("file sink: write failed; the batch is refused and cut off", "file", cf.name, "bytes_written", written, "err", err)
	if rerr := cf.rollbackAfter(start, written, log); rerr != nil {
		return rerr
	}
	return cf.refuse("writing", err)
}

// rollbackAfter cuts the file back to start when written bytes of a
// refused batch reached it.
func (cf *catFile) rollbackAfter(start, written int64, log *slog.Logger) error {
	if written == 0 {
		return nil
	}
	if err := cf.rollback(start); err != nil {
		cf.broken = true
		log.Error("file sink: cutting off a failed write failed; retried before the next write", "file", cf.name, "err", err)
		return cf.refuse("cutting off a failed write", err)
	}
	return nil
}

func (cf *catFile) rollback(size int64) error {
	if err := cf.f.Truncate(size); err != nil {
		return err
	}
	cf.broken = false
	return nil
}

// refuse turns a file-system error into what the client is told: busy
// when the disk is full (the condition passes when space is freed), a
// plain error otherwise; neither names the file.
func (cf *catFile) refuse(doing string, err error) error {
	err = fmt.Errorf("file sink: %s the %s output: %w", doing, cf.cat, withoutPath(err))
	if noSpace(err) {
		return point.Busy(err, 5*time.Second)
	}
	return err
}

// noSpace reports whether err means the file system or quota is full.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// withoutPath returns the cause of a file-system error without the path
// it names.
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// syncTo fsyncs the file unless a sync after write seq already did,
// sharing one fsync among the writers that wait together. A failed fsync
// is logged, not returned: the lines are in the file (an error would only
// make the client send them again).
func (cf *catFile) syncTo(seq uint64, log *slog.Logger) {
	cf.syncMu.Lock()
	defer cf.syncMu.Unlock()
	if cf.synced >= seq {
		return
	}
	cf.mu.Lock()
	upto := cf.seq
	cf.mu.Unlock()
	if err := cf.f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		log.Error("file sink: fsync failed; the lines are written but may not survive a machine crash", "file", cf.name, "err", err)
	}
	cf.synced = upto
}

// file returns the category's file, opening it (and cutting off a torn
// last line) the first time.
func (s *fileSink) file(c point.Category) (*catFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cf, ok := s.files[c]; ok {
		return cf, nil
	}
	cf := &catFile{cat: c, name: s.path(c)}
	f, err := os.OpenFile(cf.name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		s.log.Error("file sink: opening an output file failed", "file", cf.name, "err", err)
		return nil, cf.refuse("opening", err)
	}
	cf.f = f
	if cf.size, err = repairTail(f, cf.name, s.log); err != nil {
		_ = f.Close()
		s.log.Error("file sink: reading an output file failed", "file", cf.name, "err", err)
		return nil, cf.refuse("opening", err)
	}
	s.files[c] = cf
	return cf, nil
}

// repairTail cuts a last line without its newline (a write cut short by a
// crash) off f and returns the size that is left.
func repairTail(f *os.File, name string, log *slog.Logger) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size == 0 {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end == size {
		return size, nil
	}
	if err := f.Truncate(end); err != nil {
		return 0, err
	}
	log.Warn("file sink: cut off a torn last line (a write interrupted by a crash; it was never acknowledged)",
		"file", name, "bytes_removed", size-end)
	return end, nil
}

func (s *fileSink) syncLoop() {
	defer close(s.done)
	if s.sync != forward.SyncInterval {
		<-s.stop
		return
	}
	t := time.NewTicker(s.syncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			files := make([]*catFile, 0, len(s.files))
			for _, cf := range s.files {
				files = append(files, cf)
			}
			s.mu.Unlock()
			for _, cf := range files {
				cf.mu.Lock()
				seq := cf.seq
				cf.mu.Unlock()
				cf.syncTo(seq, s.log)
			}
		}
	}
}

// Close fsyncs (unless the policy is never) and closes every file. Only
// the first call does anything.
func (s *fileSink) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.closeErr = s.closeFiles()
	})
	return s.closeErr
}

func (s *fileSink) closeFiles() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, cf := range s.files {
		cf.syncMu.Lock()
		cf.mu.Lock()
		if s.sync != forward.SyncNever {
			if err := cf.f.Sync(); err != nil {
				s.log.Error("file sink: fsync at close failed", "file", cf.name, "err", err)
			}
		}
		if err := cf.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("file sink: closing the %s output: %w", cf.cat, withoutPath(err)))
		}
		cf.mu.Unlock()
		cf.syncMu.Unlock()
	}
	s.files = map[point.Category]*catFile{}
	return errors.Join(errs...)
}
