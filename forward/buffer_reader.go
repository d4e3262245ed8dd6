package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/collectkit/collectkit/point"
)

func (b *buffer) readCursor() pos {
	var buf [cursorSize]byte
	if n, _ := b.cursorFile.ReadAt(buf[:], 0); n != cursorSize {
		return pos{}
	}
	if crc32.Checksum(buf[:16], castagnoli) != binary.LittleEndian.Uint32(buf[16:20]) {
		b.cfg.log.Warn("forward: buffer cursor is damaged; replaying the whole buffer")
		return pos{}
	}
	return pos{seg: binary.LittleEndian.Uint64(buf[0:8]), off: int64(binary.LittleEndian.Uint64(buf[8:16]))}
}

// writeCursor persists p in place. It is not synced: a process crash keeps
// it (the page cache survives), and a stale cursor after a power loss only
// means some batches are delivered again.
func (b *buffer) writeCursor(p pos) error {
	var buf [cursorSize]byte
	binary.LittleEndian.PutUint64(buf[0:8], p.seg)
	binary.LittleEndian.PutUint64(buf[8:16], uint64(p.off))
	binary.LittleEndian.PutUint32(buf[16:20], crc32.Checksum(buf[:16], castagnoli))
	_, err := b.cursorFile.WriteAt(buf[:], 0)
	return err
}

// readRecord is one record as the reader returns it.
type readRecord struct {
	skip   bool // damaged data was skipped: no payload, only end counts
	cat    point.Category
	meta   string
	points int
	end    pos // position just after the record
	// accepted is when the record was appended (a mark time), if timed.
	accepted int64
	timed    bool
}

// next reads the record at the reader's position, appending its payload to
// dst. ok is false when there is nothing to read yet; wait on the returned
// channel for a change. Only the reader goroutine calls next.
func (b *buffer) next(dst []byte) (_ []byte, rec readRecord, ok bool, wait <-chan struct{}, err error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return dst, rec, false, nil, ErrClosed
		}
		i := slices.IndexFunc(b.segs, func(s *segment) bool { return s.id >= b.rseg })
		if i < 0 { // cannot happen: the active segment is always last
			i = len(b.segs) - 1
		}
		s := b.segs[i]
		if s.id != b.rseg { // the reader's segment was dropped
			b.closeReaderLocked()
			b.rseg, b.roff, b.rpoints = s.id, 0, 0
		}
		if b.roff >= s.size {
			if i == len(b.segs)-1 {
				// Caught up: hold no file open while waiting. A
				// segment deleted to reclaim its space keeps the space
				// while a descriptor is open on it.
				b.closeReaderLocked()
				ch := b.changed
				b.mu.Unlock()
				return dst, rec, false, ch, nil
			}
			b.closeReaderLocked()
			b.rseg, b.roff, b.rpoints = b.segs[i+1].id, 0, 0
			b.mu.Unlock()
			continue
		}
		off, limit, id := b.roff, s.size, s.id
		b.mu.Unlock()

		if b.rfile == nil {
			f, oerr := os.Open(filepath.Join(b.cfg.dir, segName(id)))
			if oerr != nil {
				return dst, rec, false, nil, fmt.Errorf("forward: reading buffer segment: %w", oerr)
			}
			b.rfile = f
		}
		var hdr [recHeaderSize]byte
		h, ok := recHeader{}, false
		_, rerr := b.rfile.ReadAt(hdr[:], off)
		if rerr == nil {
			h, ok = parseHeader(hdr[:])
			ok = ok && off+recHeaderSize+h.n <= limit
		}
		start := len(dst)
		if rerr == nil && ok {
			dst = slices.Grow(dst, int(h.n))[:start+int(h.n)]
			_, rerr = b.rfile.ReadAt(dst[start:], off+recHeaderSize)
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			// An I/O error, not damage: the caller retries.
			dst = dst[:start]
			b.mu.Lock()
			b.closeReaderLocked()
			b.mu.Unlock()
			return dst, rec, false, nil, fmt.Errorf("forward: reading buffer segment %s: %w", segName(id), rerr)
		}
		if rerr != nil || !ok {
			// The file is shorter than it was (EOF) or the header is
			// damaged: go on at the next intact header.
			dst = dst[:start]
			next := limit
			if rerr == nil {
				found, ferr := findHeader(b.rfile, off+1, limit)
				if ferr != nil {
					b.mu.Lock()
					b.closeReaderLocked()
					b.mu.Unlock()
					return dst, rec, false, nil, fmt.Errorf("forward: reading buffer segment %s: %w", segName(id), ferr)
				}
				if found >= 0 {
					next = found
				}
			}
			rest := pointsBetween(b.rfile, next, limit)
			b.mu.Lock()
			lost := max(s.points-b.rpoints-rest, 0)
			b.cfg.log.Error("forward: damaged record in the buffer; skipping to the next intact one",
				"segment", segName(id), "offset", off, "bytes_skipped", next-off, "points_lost", lost)
			b.skipLocked(lost, next)
			b.mu.Unlock()
			return dst, readRecord{skip: true, end: pos{seg: id, off: next}}, true, nil, nil
		}
		end := off + recHeaderSize + h.n
		if crc32.Checksum(dst[start:], castagnoli) != h.bodyCRC {
			dst = dst[:start]
			b.mu.Lock()
			b.cfg.log.Error("forward: damaged record in the buffer (checksum mismatch); skipping it",
				"segment", segName(id), "offset", off, "points_lost", h.points)
			b.skipLocked(int64(h.points), end)
			b.mu.Unlock()
			return dst, readRecord{skip: true, end: pos{seg: id, off: end}}, true, nil, nil
		}
		b.mu.Lock()
		b.roff = end
		b.rpoints += int64(h.points)
		rec = readRecord{cat: h.cat, points: h.points, end: pos{seg: id, off: end}}
		rec.accepted, rec.timed = b.acceptedLocked(rec.end)
		if m := h.metaLen; m > 0 && m <= int(h.n) {
			rec.meta = string(dst[start : start+m])
			dst = dst[:start+copy(dst[start:], dst[start+m:])]
		}
		b.mu.Unlock()
		return dst, rec, true, nil, nil
	}
}

// skipLocked moves the reader past damaged data holding lost points to
// offset next of its segment, counting them as dropped.
func (b *buffer) skipLocked(lost, next int64) {
	b.dropped.Add(lost)
	b.pending -= lost
	b.rpoints += lost
	b.roff = next
}

// pointsBetween adds up the point counts of the intact records from off
// to limit, stopping at the first damaged header.
func pointsBetween(f io.ReaderAt, off, limit int64) int64 {
	var hdr [recHeaderSize]byte
	var n int64
	for off+recHeaderSize <= limit {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			break
		}
		h, ok := parseHeader(hdr[:])
		if !ok || off+recHeaderSize+h.n > limit {
			break
		}
		n += int64(h.points)
		off += recHeaderSize + h.n
	}
	return n
}

// readPos returns the reader's position.
func (b *buffer) readPos() pos {
	b.mu.Lock()
	defer b.mu.Unlock()
	return pos{seg: b.rseg, off: b.roff}
}

func (b *buffer) closeReaderLocked() {
	if b.rfile != nil {
		_ = b.rfile.Close()
		b.rfile = nil
	}
}

// commit records that everything before p has been delivered (or given up
// on); delivered is how many points that covers. Segments wholly before p
// are deleted.
func (b *buffer) commit(p pos, delivered int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.less(b.cursor) {
		return nil
	}
	b.cursor = p
	b.pending -= delivered
	b.noRoom = false
	b.popMarksLocked()
	b.deleteDeliveredLocked()
	err := b.writeCursor(p)
	b.notifyLocked()
	return err
}
