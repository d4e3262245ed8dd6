package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collectkit/collectkit/point"
)

// ErrFull is matched by the busy error Write returns when the buffer has
// no room (see FullPolicy), and by Ready's error while that lasts.
var ErrFull = errors.New("forward: buffer full")

// pos is a position in the buffer: a segment id and a byte offset in it.
type pos struct {
	seg uint64
	off int64
}

func (p pos) less(q pos) bool { return p.seg < q.seg || (p.seg == q.seg && p.off < q.off) }

type segment struct {
	modTime time.Time // of the file when the buffer was opened; zero for new segments
	id      uint64
	size    int64 // bytes of complete records
	points  int64 // points in its complete records
	file    *os.File
	broken  bool // a failed write could not be cut off: seal before the next append
}

// bufferConfig is what the buffer needs from Options, already defaulted.
type bufferConfig struct {
	dir          string
	maxBytes     int64
	segmentBytes int64
	sync         SyncPolicy
	syncInterval time.Duration
	full         FullPolicy
	maxBlock     time.Duration
	log          *slog.Logger
}

// buffer is the on-disk queue between Write and delivery. Appends are safe
// for concurrent use; reading (next) and commit belong to one goroutine
// each (the reader and the acknowledgement tracker).
type buffer struct {
	cfg  bufferConfig
	lock *os.File

	mu      sync.Mutex
	segs    []*segment // ascending id; the last one is the active (written) segment
	total   int64      // bytes of all segments
	pending int64      // points after the cursor
	closed  bool
	changed chan struct{} // closed and replaced whenever data, room or the cursor change

	rseg    uint64 // reader's segment and offset
	roff    int64
	rpoints int64 // points read so far in rseg
	rfile   *os.File

	cursor     pos
	cursorFile *os.File

	syncMu sync.Mutex
	seq    uint64 // appends so far (under mu)
	synced uint64 // appends known to be on stable storage (under syncMu)

	// epoch is when the buffer was opened; mark times count from it on
	// the monotonic clock.
	epoch time.Time
	// marks say when the undelivered data was appended (see mark);
	// marks[markHead:] are live, in buffer order. Under mu.
	marks    []mark
	markHead int
	// noRoom: the last append that needed room found none (it was refused
	// or waited), and nothing has been delivered or appended since. Under mu.
	noRoom bool

	dropped    atomic.Int64 // points dropped unread (FullDropOldest, corrupt records)
	syncErrors atomic.Int64 // failed fsyncs
	stop       chan struct{}
	wg         sync.WaitGroup
}

func segName(id uint64) string { return fmt.Sprintf("%020d%s", id, segSuffix) }

// openBuffer opens or creates the buffer directory, recovers what a crash
// may have left (a torn record at the end of the last segment), positions
// the reader at the persisted cursor and starts a new active segment.
func openBuffer(cfg bufferConfig) (_ *buffer, err error) {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return nil, fmt.Errorf("forward: buffer directory: %w", err)
	}
	b := &buffer{cfg: cfg, changed: make(chan struct{}), stop: make(chan struct{}), epoch: time.Now()}
	if b.lock, err = lockDir(filepath.Join(cfg.dir, lockName)); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.closeFiles()
		}
	}()
	if b.cursorFile, err = os.OpenFile(filepath.Join(cfg.dir, cursorName), os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return nil, fmt.Errorf("forward: buffer cursor: %w", err)
	}
	b.cursor = b.readCursor()
	saved := b.cursor
	var before int64 // points of the cursor's segment before the cursor

	entries, err := os.ReadDir(cfg.dir)
	if err != nil {
		return nil, fmt.Errorf("forward: buffer directory: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segSuffix) {
			continue
		}
		id, perr := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if perr != nil {
			cfg.log.Warn("forward: ignoring unexpected file in buffer directory", "file", name)
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		path := filepath.Join(cfg.dir, segName(id))
		if id < b.cursor.seg {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("forward: removing delivered segment: %w", err)
			}
			continue
		}
		cut := int64(0)
		if id == b.cursor.seg {
			cut = b.cursor.off
		}
		// Taken before the scan, which may truncate a torn tail.
		var modTime time.Time
		if fi, err := os.Stat(path); err == nil {
			modTime = fi.ModTime()
		}
		s, n, lost, err := scanSegment(path, id, cut, cfg.log)
		if err != nil {
			return nil, err
		}
		s.modTime = modTime
		b.dropped.Add(lost)
		if id == b.cursor.seg {
			before = n
		}
		b.segs = append(b.segs, s)
		b.total += s.size
	}
	// Position the cursor on a segment that exists.
	if len(b.segs) == 0 || b.segs[0].id != b.cursor.seg {
		if len(b.segs) > 0 {
			b.cursor = pos{seg: b.segs[0].id}
		} else {
			b.cursor = pos{}
		}
	} else if b.cursor.off > b.segs[0].size {
		b.cursor.off = b.segs[0].size
	}
	for _, s := range b.segs {
		b.pending += s.points
		// Data of an earlier run: its append times are gone, and the
		// segment's modification time (when its newest data was written)
		// stands in for them, so its age is underestimated, not invented.
		if end := (pos{seg: s.id, off: s.size}); b.cursor.less(end) {
			b.marks = append(b.marks, mark{end: end, at: min(int64(s.modTime.Sub(b.epoch)), 0)})
		}
	}
	b.rseg, b.roff = b.cursor.seg, b.cursor.off
	if len(b.segs) > 0 && b.cursor.off > 0 {
		b.pending -= before
		b.rpoints = before
	}
	// Never reuse the id the saved cursor names (its segments may have
	// been removed by hand): a new segment with that id would be taken
	// for one delivered up to the cursor's offset.
	next := max(saved.seg+1, 1)
	if len(b.segs) > 0 {
		next = b.segs[len(b.segs)-1].id + 1
	}
	if err := b.newSegment(next); err != nil {
		return nil, err
	}
	if b.rseg == 0 {
		b.rseg, b.roff = next, 0
		b.cursor = pos{seg: next}
	}
	if b.cursor != saved {
		if err := b.writeCursor(b.cursor); err != nil {
			return nil, fmt.Errorf("forward: buffer cursor: %w", err)
		}
	}
	if cfg.sync == SyncInterval {
		b.wg.Add(1)
		go b.syncLoop()
	}
	return b, nil
}

// newSegment creates segment id and makes it the active one. Called with
// mu held or before the buffer is shared.
func (b *buffer) newSegment(id uint64) error {
	f, err := b.createSegment(id)
	if err != nil {
		return err
	}
	b.segs = append(b.segs, &segment{id: id, file: f})
	return nil
}

// createSegment creates the (empty) file of segment id.
func (b *buffer) createSegment(id uint64) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(b.cfg.dir, segName(id)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("forward: creating buffer segment: %w", err)
	}
	if b.cfg.sync == SyncAlways {
		syncDir(b.cfg.dir)
	}
	return f, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// notifyLocked wakes everyone waiting for a change. Called with mu held.
func (b *buffer) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// active returns the segment being written. Called with mu held.
func (b *buffer) active() *segment { return b.segs[len(b.segs)-1] }

// append writes recs (one or more complete records holding npoints points)
// to the buffer, making room as the full policy says, and returns once they
// are as durable as the sync policy promises.
func (b *buffer) append(ctx context.Context, recs []byte, npoints int) error {
	n := int64(len(recs))
	if n > b.cfg.maxBytes {
		return fmt.Errorf("forward: a batch of %d encoded bytes exceeds the buffer size of %d bytes (Options.BufferMaxBytes)", n, b.cfg.maxBytes)
	}
	var deadline <-chan time.Time
	b.mu.Lock()
	for b.total+n > b.cfg.maxBytes && !b.closed {
		if b.reclaimLocked() {
			continue
		}
		switch b.cfg.full {
		case FullDropOldest:
			if b.dropOldestLocked() {
				continue
			}
		case FullReject:
			b.noRoom = true
			b.mu.Unlock()
			return point.Busy(ErrFull, time.Second)
		}
		b.noRoom = true
		// Block (or nothing left to drop): wait for room.
		if deadline == nil && b.cfg.maxBlock > 0 {
			t := time.NewTimer(b.cfg.maxBlock)
			defer t.Stop()
			deadline = t.C
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return point.Busy(fmt.Errorf("%w: %w", ErrFull, context.Cause(ctx)), time.Second)
		case <-deadline:
			return point.Busy(ErrFull, time.Second)
		}
		b.mu.Lock()
	}
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	if a := b.active(); a.broken || (a.size > 0 && a.size+n > b.cfg.segmentBytes) {
		if err := b.rotateLocked(); err != nil {
			b.mu.Unlock()
			// The active segment stays usable; the condition (a full
			// disk, too many open files) may pass.
			b.cfg.log.Error("forward: starting a buffer segment failed; the batch is refused as busy", "err", err)
			return point.Busy(fmt.Errorf("forward: starting a buffer segment: %w", withoutPath(err)), time.Second)
		}
	}
	if err := b.writeLocked(recs); err != nil {
		b.mu.Unlock()
		// ENOSPC and the like: nothing of the batch is kept, and a retry
		// later may succeed, so the caller (an HTTP input) answers busy.
		// The path goes to the log only: the error may reach a client.
		b.cfg.log.Error("forward: writing to the buffer failed; the batch is refused as busy", "err", err)
		return point.Busy(fmt.Errorf("forward: writing to the buffer: %w", withoutPath(err)), time.Second)
	}
	a := b.active()
	a.size += n
	a.points += int64(npoints)
	b.total += n
	b.pending += int64(npoints)
	b.noRoom = false
	b.markLocked(pos{seg: a.id, off: a.size})
	b.seq++
	seq := b.seq
	b.notifyLocked()
	b.mu.Unlock()
	if b.cfg.sync == SyncAlways {
		b.syncTo(seq)
	}
	return nil
}

// writeLocked appends recs to the active segment. A failed write is cut
// off so the segment stays well formed (if that fails, the segment is
// written no more). When the file system is full, delivered data may
// still hold the space the write needs, however far the buffer is below
// BufferMaxBytes: the space is reclaimed and the write tried once more.
// Called with mu held.
func (b *buffer) writeLocked(recs []byte) error {
	for retried := false; ; retried = true {
		a := b.active()
		if a.broken {
			if err := b.rotateLocked(); err != nil {
				return err
			}
			a = b.active()
		}
		_, err := a.file.Write(recs)
		if err == nil {
			return nil
		}
		if terr := a.file.Truncate(a.size); terr != nil {
			a.broken = true
		}
		if _, serr := a.file.Seek(a.size, io.SeekStart); serr != nil {
			a.broken = true
		}
		if retried || !b.reclaimLocked() {
			return err
		}
		b.cfg.log.Info("forward: a buffer write did not fit; reclaimed delivered space and retrying", "err", err)
	}
}

// withoutPath returns the cause of a file-system error without the path
// it names (a client must not learn where the server keeps its files).
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}

// syncTo makes every append up to seq durable, sharing one fsync among
// the writers that wait at the same time (group commit). A failed fsync
// is logged and counted, not returned: see the comment inside.
func (b *buffer) syncTo(seq uint64) {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	if b.synced >= seq {
		return
	}
	b.mu.Lock()
	f, upto := b.active().file, b.seq
	b.mu.Unlock()
	if f == nil { // closed meanwhile: close synced everything
		return
	}
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		// ErrClosed: the segment was rotated, and rotation syncs it.
		// Any other error: the records are written (in the page cache),
		// are counted as buffered and will be delivered; an error here
		// would only make the caller send them again. They are not known
		// to survive a power loss: log and count it.
		b.syncErrors.Add(1)
		b.cfg.log.Error("forward: fsync of the buffer failed; the data will still be delivered unless the machine crashes first", "err", err)
	}
	b.synced = upto
}

func (b *buffer) syncLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.syncInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			seq := b.seq
			b.mu.Unlock()
			b.syncTo(seq)
		}
	}
}

// rotateLocked seals the active segment and starts the next one. It
// creates the new segment first: when that fails, the active segment
// stays as it was, still usable.
func (b *buffer) rotateLocked() error {
	a := b.active()
	f, err := b.createSegment(a.id + 1)
	if err != nil {
		return err
	}
	if b.cfg.sync != SyncNever {
		if err := a.file.Sync(); err != nil {
			// As in syncTo: the records will be delivered all the same.
			b.syncErrors.Add(1)
			b.cfg.log.Error("forward: fsync of a sealed buffer segment failed; its data will still be delivered unless the machine crashes first", "err", err)
		}
	}
	if err := a.file.Close(); err != nil {
		b.cfg.log.Warn("forward: closing a sealed buffer segment failed", "err", err)
	}
	a.file = nil
	b.segs = append(b.segs, &segment{id: a.id + 1, file: f})
	return nil
}

// reclaimLocked frees the space of delivered data that is still on disk:
// it seals the active segment if delivery has reached into it (a segment
// is freed only once sealed) and deletes every segment delivery has
// passed. It reports whether it freed anything.
func (b *buffer) reclaimLocked() bool {
	if a := b.active(); b.cursor.seg == a.id && b.cursor.off > 0 {
		if err := b.rotateLocked(); err != nil {
			b.cfg.log.Error("forward: sealing the buffer segment to reclaim delivered space failed", "err", err)
			return false
		}
	}
	return b.deleteDeliveredLocked()
}

// deleteDeliveredLocked deletes the sealed segments wholly before the
// cursor and reports whether it deleted any.
func (b *buffer) deleteDeliveredLocked() bool {
	deleted := false
	for len(b.segs) > 1 {
		s := b.segs[0]
		if s.id > b.cursor.seg || (s.id == b.cursor.seg && b.cursor.off < s.size) {
			break
		}
		if err := os.Remove(filepath.Join(b.cfg.dir, segName(s.id))); err != nil && !errors.Is(err, os.ErrNotExist) {
			b.cfg.log.Error("forward: removing a delivered buffer segment failed", "err", err)
			break
		}
		b.segs = b.segs[1:]
		b.total -= s.size
		deleted = true
	}
	return deleted
}

// dropOldestLocked deletes the oldest sealed segment the reader has not
// started, counting its points as dropped. It reports whether it freed
// anything.
func (b *buffer) dropOldestLocked() bool {
	for i, s := range b.segs[:len(b.segs)-1] {
		if s.id <= b.rseg {
			continue
		}
		if err := os.Remove(filepath.Join(b.cfg.dir, segName(s.id))); err != nil {
			b.cfg.log.Error("forward: dropping the oldest buffer segment failed", "err", err)
			return false
		}
		b.segs = slices.Delete(b.segs, i, i+1)
		b.total -= s.size
		b.pending -= s.points
		live := slices.DeleteFunc(b.marks[b.markHead:], func(m mark) bool { return m.end.seg == s.id })
		b.marks = b.marks[:b.markHead+len(live)]
		b.dropped.Add(s.points)
		b.cfg.log.Warn("forward: buffer full; dropped the oldest undelivered data", "points", s.points, "bytes", s.size)
		return true
	}
	return false
}

// state returns the bytes and undelivered points in the buffer, and the
// end of the written data.
func (b *buffer) state() (bytes, points int64, end pos, cursor pos, ch <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.active()
	return b.total, b.pending, pos{seg: a.id, off: a.size}, b.cursor, b.changed
}

func (b *buffer) closeFiles() {
	for _, s := range b.segs {
		if s.file != nil {
			_ = s.file.Close()
			s.file = nil
		}
	}
	b.closeReaderLocked()
	if b.cursorFile != nil {
		_ = b.cursorFile.Close()
	}
	if b.lock != nil {
		unlockDir(b.lock)
	}
}

// close syncs and closes the buffer. Appends after close fail with
// ErrClosed.
func (b *buffer) close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.notifyLocked()
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	var err error
	if f := b.active().file; f != nil && b.cfg.sync != SyncNever {
		err = f.Sync()
	}
	b.synced = b.seq
	b.closeFiles()
	if err != nil {
		return fmt.Errorf("forward: syncing the buffer: %w", err)
	}
	return nil
}
