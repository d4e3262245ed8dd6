package main

import (
	"context"
	"fmt"
	"io"
	"sync"

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
	s.buf = keepSmall(buf)
	if err != nil {
		return err
	}
	if _, err := s.w.Write(buf); err != nil {
		return fmt.Errorf("stdout sink: %w", err)
	}
	return nil
}

// maxKeptBuffer is the largest encoding buffer a sink keeps between
// batches: one large request must not pin its size for the agent's life.
const maxKeptBuffer = 1 << 20

// keepSmall returns buf emptied for reuse, or nil when it has grown past
// maxKeptBuffer.
func keepSmall(buf []byte) []byte {
	if cap(buf) > maxKeptBuffer {
		return nil
	}
	return buf[:0]
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
