package netdata

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/collectkit/collectkit/point"
)

// maxBatch is the most points Read hands to emit at once.
const maxBatch = 1024

// Read feeds the Engine every line of r until EOF and hands the points to
// emit in batches: a batch ends when r has no more data ready (one update
// of a plugin is written at once, so a batch is usually one update of all
// its charts) or holds 1024 points. emit's slice is reused once emit
// returns, but the points in it are the caller's to keep.
//
// Each line is stamped with Options.Now. Bad lines go to Options.OnError
// (or the log) and reading goes on. Read returns nil at EOF,
// ErrDisabled when the plugin sends DISABLE, the first error of emit, a
// read error of r, or ctx.Err() once ctx is done; ctx is checked between
// lines, so to stop a Read blocked in r, close r (end the plugin).
func (e *Engine) Read(ctx context.Context, r io.Reader, emit func([]point.Point) error) error {
	now := e.opts.Now
	if now == nil {
		now = time.Now
	}
	size := 64 << 10
	if e.maxLine >= 0 && e.maxLine+2 < size {
		size = max(e.maxLine+2, 16)
	}
	br := bufio.NewReaderSize(r, size)
	var batch []point.Point
	var long []byte
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(batch)
		clear(batch)
		batch = batch[:0]
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, tooLong, rerr := readLine(br, &long, e.maxLine)
		if len(line) > 0 || tooLong || rerr == nil {
			var err error
			switch {
			case tooLong && e.inFunctionResult:
				e.line++ // part of a function result: skipped anyway
			case tooLong:
				e.line++
				err = e.errorf("", "%w: more than %d bytes", ErrLineTooLong, e.maxLine)
			default:
				batch, err = e.Feed(batch, line, now())
			}
			switch {
			case errors.Is(err, ErrDisabled):
				if ferr := flush(); ferr != nil {
					return ferr
				}
				return ErrDisabled
			case err != nil:
				e.badLine(err)
			}
		}
		if rerr != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			if rerr == io.EOF {
				return nil
			}
			return fmt.Errorf("netdata: reading plugin output: %w", rerr)
		}
		if len(batch) >= maxBatch || br.Buffered() == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

func (e *Engine) badLine(err error) {
	if e.opts.OnError != nil {
		e.opts.OnError(err)
		return
	}
	e.log.Warn("netdata: bad plugin line", "err", err)
}

// readLine returns the next line of br without its "\n". A line longer
// than limit (≥ 0) is read to its end and dropped: tooLong is true and
// line is nil. line aliases br's buffer or *long until the next call.
// err is io.EOF after the last line (which may lack its "\n").
func readLine(br *bufio.Reader, long *[]byte, limit int) (line []byte, tooLong bool, err error) {
	frag, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		if err == nil {
			frag = frag[:len(frag)-1]
		}
		if limit >= 0 && len(frag) > limit+1 { // +1: a "\r" may still go
			return nil, true, err
		}
		return frag, false, err
	}
	buf := append((*long)[:0], frag...)
	for {
		frag, err = br.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, frag...)
			if limit >= 0 && len(buf) > limit+2 {
				tooLong = true
				buf = buf[:0]
			}
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	if cap(buf) <= 1<<20 {
		*long = buf // keep a reasonable buffer for the next long line
	}
	if tooLong {
		return nil, true, err
	}
	if err == nil {
		buf = buf[:len(buf)-1]
	}
	return buf, false, err
}
