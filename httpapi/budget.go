package httpapi

import (
	"bytes"
	"net/http"
	"sync/atomic"
)

// budget is the memory budget of all requests in flight
// (Limits.MaxInFlightBytes). A nil *budget admits everything.
//
// With the default budget, under 32 concurrent hostile clients (gzip bombs,
// 100 MiB plain bodies, trickling bodies, bodies at the line limit) the heap
// stays near 300 MiB and a well-formed client keeps being answered
// (TestHostileConcurrentRequests).
type budget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes and reports whether they were left.
func (b *budget) take(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// lease is one request's share of the budget. It is not safe for
// concurrent use; the request's goroutine owns it.
type lease struct {
	b    *budget
	busy int // status for "not now": 429 or 503
	n    int64
}

// grow takes n more bytes, or explains why not: 413 when the request
// alone would need more than the whole budget, busy otherwise.
func (l *lease) grow(n int64, what string) error {
	if l.b.take(n) {
		l.n += n
		return nil
	}
	if l.n+n > l.b.limit {
		return apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"%s would need %d bytes, more than the in-flight memory budget of %d bytes", what, l.n+n, l.b.limit)
	}
	return apiErr(l.busy, CodeReachMaxAPILimit,
		"the in-flight memory budget of %d bytes is in use by other requests; %s needs %d more bytes, retry later", l.b.limit, what, n)
}

// release gives everything back.
func (l *lease) release() {
	l.b.give(l.n)
	l.n = 0
}

// What decoding allocates, for the budget: per point a point.Point and its
// span in the decoder (108 bytes) and its slot in a warning list, per
// key=value pair a Field (48 bytes; a Tag is 32) and a warning, the slabs
// counted twice for their growth by doubling.
const (
	costPerPoint = 2*(88+20) + 48
	costPerPair  = 2*48 + 48
)

// refineAbove is the estimate above which decodeCost counts again, outside
// quoted strings: a log message full of '=' or ':' is one field, not many.
const refineAbove = 32 << 20

// decodeCost estimates what decoding body will allocate, from its lines
// (line protocol) or '{' (JSON, at least one per element) and its '=' or
// ':' (at least one per pair). Points beyond maxPoints are not decoded.
func decodeCost(body []byte, lines int, isJSON bool, maxPoints int) int64 {
	open, sep := byte('{'), byte('=')
	if isJSON {
		sep = ':'
	}
	pts, pairs := lines, bytes.Count(body, []byte{sep})
	if isJSON {
		pts = bytes.Count(body, []byte{open})
	}
	cost := func() int64 {
		p := pts
		if maxPoints > 0 && p > maxPoints {
			p = maxPoints
		}
		return int64(p)*costPerPoint + int64(pairs)*costPerPair
	}
	if c := cost(); c <= refineAbove {
		return c
	}
	o, s := countOutsideStrings(body, open, sep)
	pairs = s
	if isJSON {
		pts = o
	}
	return cost()
}

// countOutsideStrings counts the bytes a and b that are not inside a
// double-quoted string (a backslash escapes the next byte). For line
// protocol, where a quote in a tag is a plain character, it is an
// estimate.
func countOutsideStrings(body []byte, a, b byte) (na, nb int) {
	in := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\':
			i++
		case c == '"':
			in = !in
		case in:
		case c == a:
			na++
		case c == b:
			nb++
		}
	}
	return na, nb
}
