package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/collectkit/collectkit/protocol"
)

// DefaultRejectLogInterval is how often, at most, rejected write requests
// are summarized at Warn when Options.RejectLogInterval is zero.
const DefaultRejectLogInterval = time.Minute

// rejectLog writes rejected write requests (4xx) to the logger at Warn,
// at most one record per interval: a rejection after a quiet interval is
// logged at once; those that follow within the interval are counted and
// summarized when it ends (on the next rejection after it, or by a timer,
// so the last ones are not left unlogged).
type rejectLog struct {
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration // <= 0: off

	mu       sync.Mutex
	last     time.Time // of the last record; zero before any
	pending  map[rejectKey]*rejectCount
	requests int
	points   int
	lastOne  rejection
	timer    *time.Timer
}

// rejectKey is one line of a summary: a route, a status and a code.
type rejectKey struct {
	route  Route
	status int
	code   string
}

type rejectCount struct{ requests, points int }

// rejection is one rejected request.
type rejection struct {
	rejectKey
	points int
	msg    string // as the client was told, with the line where known
}

// note records one rejected request.
func (l *rejectLog) note(ctx context.Context, rj rejection) {
	if l.interval <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	if l.requests == 0 && (l.last.IsZero() || now.Sub(l.last) >= l.interval) {
		l.last = now
		l.mu.Unlock()
		l.log.LogAttrs(ctx, slog.LevelWarn, "write rejected",
			slog.String("route", rj.route.String()), slog.Int("status", rj.status), slog.String("code", rj.code),
			slog.Int("points", rj.points), slog.String("error", rj.msg))
		return
	}
	if l.pending == nil {
		l.pending = make(map[rejectKey]*rejectCount)
	}
	c := l.pending[rj.rejectKey]
	if c == nil {
		c = new(rejectCount)
		l.pending[rj.rejectKey] = c
	}
	c.requests++
	c.points += rj.points
	l.requests++
	l.points += rj.points
	l.lastOne = rj
	if now.Sub(l.last) >= l.interval {
		attrs := l.takeLocked(now)
		l.mu.Unlock()
		l.log.LogAttrs(ctx, slog.LevelWarn, "writes rejected", attrs...)
		return
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(l.interval-now.Sub(l.last), l.flush)
	}
	l.mu.Unlock()
}

// flush logs the pending summary once the interval since the last record
// has passed, else waits for the rest of it.
func (l *rejectLog) flush() {
	now := l.now()
	l.mu.Lock()
	l.timer = nil
	if l.requests == 0 {
		l.mu.Unlock()
		return
	}
	if wait := l.interval - now.Sub(l.last); wait > 0 {
		l.timer = time.AfterFunc(wait, l.flush)
		l.mu.Unlock()
		return
	}
	attrs := l.takeLocked(now)
	l.mu.Unlock()
	l.log.LogAttrs(context.Background(), slog.LevelWarn, "writes rejected", attrs...)
}

// takeLocked builds the summary record's attributes and resets the
// counts: totals, one line per route, status and code (sorted), and the
// last rejection.
func (l *rejectLog) takeLocked(now time.Time) []slog.Attr {
	keys := slices.SortedFunc(maps.Keys(l.pending), func(a, b rejectKey) int {
		switch {
		case a.route != b.route:
			return int(a.route) - int(b.route)
		case a.status != b.status:
			return a.status - b.status
		case a.code < b.code:
			return -1
		case a.code > b.code:
			return 1
		}
		return 0
	})
	by := make([]string, len(keys))
	for i, k := range keys {
		c := l.pending[k]
		by[i] = fmt.Sprintf("%s %d %s: %d requests, %d points", k.route, k.status, k.code, c.requests, c.points)
	}
	attrs := []slog.Attr{
		slog.Duration("since", now.Sub(l.last)), slog.Int("requests", l.requests), slog.Int("points", l.points),
		slog.Any("by", by),
		slog.Group("last", slog.String("route", l.lastOne.route.String()), slog.Int("status", l.lastOne.status),
			slog.String("code", l.lastOne.code), slog.String("error", l.lastOne.msg)),
	}
	clear(l.pending)
	l.requests, l.points, l.lastOne = 0, 0, rejection{}
	l.last = now
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	return attrs
}

// batchError carries how many points a batch that was refused had.
type batchError struct {
	err    error
	points int
}

func (e *batchError) Error() string { return e.err.Error() }
func (e *batchError) Unwrap() error { return e.err }

// pointsOf tells how many points a refused request had, where known: the
// batch's, or the lines or elements a decoder saw.
func pointsOf(err error) int {
	var be *batchError
	if errors.As(err, &be) {
		return be.points
	}
	var des *protocol.DecodeErrors
	if errors.As(err, &des) {
		return des.Valid + des.Invalid
	}
	return 0
}
