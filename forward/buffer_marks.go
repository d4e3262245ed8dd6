package forward

import (
	"slices"
	"time"
)

// The record format has no timestamps, so the buffer keeps in memory when
// its undelivered data was appended, for the age of the oldest undelivered
// point and the delivery latency. Nothing changes on disk.
//
// A mark covers the appends from the previous mark's end up to its own
// end; at is the time of the first of them, so an age read from a mark is
// that of the oldest data it covers. Appends close together share a mark:
// a new one starts only when the last is older than markGap or than
// 1/markSpread of the oldest live mark's age, whichever is more. The
// estimate is off by at most that much, and the number of marks grows with
// the logarithm of the backlog's age (about 12,000 for a day without
// delivery), not with the number of appends.
const (
	markGap    = time.Millisecond
	markSpread = 1024
	maxMarks   = 1 << 16 // a safety bound: past it the last mark is extended
)

type mark struct {
	end pos
	at  int64 // nanoseconds since the buffer's epoch (monotonic clock)
}

// now is the current time as marks count it.
func (b *buffer) now() int64 { return int64(time.Since(b.epoch)) }

// markLocked records that the data up to end was appended now. Called
// with mu held.
func (b *buffer) markLocked(end pos) {
	now := b.now()
	if live := b.marks[b.markHead:]; len(live) > 0 {
		last := &b.marks[len(b.marks)-1]
		gap := max(int64(markGap), (now-live[0].at)/markSpread)
		if now-last.at < gap || len(live) >= maxMarks {
			last.end = end
			return
		}
	}
	if b.markHead > 0 && b.markHead >= len(b.marks)/2 {
		n := copy(b.marks, b.marks[b.markHead:])
		b.marks, b.markHead = b.marks[:n], 0
	}
	b.marks = append(b.marks, mark{end: end, at: now})
}

// popMarksLocked forgets the marks of data up to the cursor. Called with
// mu held.
func (b *buffer) popMarksLocked() {
	for b.markHead < len(b.marks) && !b.cursor.less(b.marks[b.markHead].end) {
		b.markHead++
	}
	if b.markHead == len(b.marks) {
		b.marks, b.markHead = b.marks[:0], 0
	}
}

// acceptedLocked returns when the record ending at end was appended, as
// a mark time; ok is false when no mark covers it. Called with mu held.
func (b *buffer) acceptedLocked(end pos) (at int64, ok bool) {
	live := b.marks[b.markHead:]
	i, _ := slices.BinarySearchFunc(live, end, func(m mark, p pos) int {
		switch {
		case m.end.less(p):
			return -1
		case p.less(m.end):
			return 1
		}
		return 0
	})
	if i == len(live) {
		return 0, false
	}
	return live[i].at, true
}

// health is a consistent snapshot of the buffer for Status and metrics.
type health struct {
	diskBytes   int64 // bytes of all segments, delivered data not yet freed included
	undelivered int64 // bytes after the cursor
	points      int64 // undelivered points
	oldest      int64 // mark time of the oldest undelivered data; valid if points > 0 and hasOldest
	hasOldest   bool
	noRoom      bool
}

func (b *buffer) health() health {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := health{diskBytes: b.total, points: b.pending, noRoom: b.noRoom}
	for _, s := range b.segs {
		switch {
		case s.id > b.cursor.seg:
			h.undelivered += s.size
		case s.id == b.cursor.seg:
			h.undelivered += max(s.size-b.cursor.off, 0)
		}
	}
	if b.markHead < len(b.marks) {
		h.oldest, h.hasOldest = b.marks[b.markHead].at, true
	}
	return h
}
