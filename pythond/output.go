package pythond

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
)

const (
	// maxLine is the longest line logged as one record; longer lines are
	// split into records of this size.
	maxLine = 64 << 10
	// maxQueued is how many bytes of output may wait for a slow logger
	// before further lines are counted and dropped instead of letting the
	// pipe fill up and block the child.
	maxQueued = 32 << 20
)

// lineQueue hands lines from the pipe reader to the logging goroutine
// without ever making the reader wait.
type lineQueue struct {
	mu      sync.Mutex
	lines   [][]byte
	bytes   int
	closed  bool
	dropped int
	wake    chan struct{}
}

func (q *lineQueue) push(line []byte) {
	q.mu.Lock()
	if q.bytes+len(line) > maxQueued {
		q.dropped++
		q.mu.Unlock()
		return
	}
	q.lines = append(q.lines, bytes.Clone(line))
	q.bytes += len(line)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *lineQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take waits for lines and returns them all, with the number dropped so
// far; ok is false once the queue is closed and empty.
func (q *lineQueue) take(buf [][]byte) (lines [][]byte, dropped int, ok bool) {
	for {
		q.mu.Lock()
		if len(q.lines) > 0 || q.closed {
			lines, q.lines = q.lines, buf[:0]
			q.bytes = 0
			dropped, q.dropped = q.dropped, 0
			closed := q.closed
			q.mu.Unlock()
			return lines, dropped, len(lines) > 0 || dropped > 0 || !closed
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// captureLines logs every line read from r until EOF, each as one record
// (see lineLevel). Reading never waits for the logger; if the logger falls
// maxQueued bytes behind, further lines are dropped and their number is
// logged.
func captureLines(ctx context.Context, r io.Reader, logger *slog.Logger, stream string, pid int) {
	q := &lineQueue{wake: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var spare [][]byte
		for {
			lines, dropped, ok := q.take(spare)
			if !ok {
				return
			}
			for i, line := range lines {
				level, msg := lineLevel(stream, line)
				logger.Log(ctx, level, string(msg), "stream", stream, "pid", pid)
				lines[i] = nil
			}
			if dropped > 0 {
				logger.Warn("lines of python output dropped: the logger could not keep up", "stream", stream, "pid", pid, "dropped", dropped)
			}
			spare = lines
		}
	}()
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			q.push(bytes.TrimRight(line, "\r\n"))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
	}
	q.close()
	<-done
}

// lineLevel picks a line's log level: stdout is Info; stderr is Warn
// unless the line starts with a Telegraf-style prefix ("E! ", "W! ",
// "I! ", "D! ") or a Python logging level ("ERROR:", "WARNING:", ...),
// or is a Netdata plugin's record (a time, then "python.d INFO: "), in
// which case that level is used (and a Telegraf prefix is removed).
func lineLevel(stream string, line []byte) (slog.Level, []byte) {
	if stream == "stdout" {
		return slog.LevelInfo, line
	}
	if len(line) >= 3 && line[1] == '!' && line[2] == ' ' {
		switch line[0] {
		case 'E':
			return slog.LevelError, line[3:]
		case 'W':
			return slog.LevelWarn, line[3:]
		case 'I':
			return slog.LevelInfo, line[3:]
		case 'D', 'T':
			return slog.LevelDebug, line[3:]
		}
	}
	for _, p := range pyLevels {
		if bytes.HasPrefix(line, p.prefix) {
			return p.level, line
		}
	}
	if len(line) > 0 && line[0] >= '0' && line[0] <= '9' {
		// A Netdata plugin's log: "2026-12-01 22:45:29: python.d INFO: ...".
		head := line[:min(len(line), 64)]
		for _, p := range pyLevels {
			if i := bytes.Index(head, p.prefix); i > 0 && head[i-1] == ' ' && bytes.HasPrefix(line[i+len(p.prefix):], []byte(": ")) {
				return p.level, line
			}
		}
	}
	return slog.LevelWarn, line
}

var pyLevels = []struct {
	prefix []byte
	level  slog.Level
}{
	{[]byte("CRITICAL"), slog.LevelError},
	{[]byte("ERROR"), slog.LevelError},
	{[]byte("WARNING"), slog.LevelWarn},
	{[]byte("INFO"), slog.LevelInfo},
	{[]byte("DEBUG"), slog.LevelDebug},
	{[]byte("Traceback "), slog.LevelError},
}
