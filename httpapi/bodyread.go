package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"
)

// bodyReader reads a request body from the connection, moving the
// connection's read deadline before every read: a body must deliver a
// byte within BodyReadTimeout, and once BodyReadTimeout has passed it must
// have arrived at MinBodyRate on average (the deadline is BodyReadTimeout
// plus one second per MinBodyRate bytes received). It records why a read
// failed, so that the error can be told apart after a decompressor has
// wrapped it.
type bodyReader struct {
	r       io.Reader
	rc      *http.ResponseController // nil: deadlines not set
	timeout time.Duration
	rate    float64 // bytes per second; 0: none
	start   time.Time
	n       int64
	set     bool // a deadline is set
	eof     bool // the body was read to its end

	over     bool  // the body is over MaxBodyBytes
	limit    int64 // MaxBodyBytes, when over
	timedOut bool
	readErr  error // the connection's error, if any
}

func (h *Handler) bodyReader(w http.ResponseWriter, r io.Reader) *bodyReader {
	br := &bodyReader{r: r}
	lim := &h.opts.Limits
	if lim.BodyReadTimeout > 0 {
		br.rc = http.NewResponseController(w)
		br.timeout = lim.BodyReadTimeout
		br.start = time.Now()
		if lim.MinBodyRate > 0 {
			br.rate = float64(lim.MinBodyRate)
		}
	}
	return br
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.rc != nil {
		now := time.Now()
		dl := now.Add(b.timeout)
		if b.rate > 0 {
			earned := time.Duration(float64(b.n) / b.rate * float64(time.Second))
			if byRate := b.start.Add(b.timeout + earned); byRate.Before(dl) {
				dl = byRate
			}
		}
		if err := b.rc.SetReadDeadline(dl); err != nil {
			b.rc = nil // not supported (a test recorder): no deadlines
		} else {
			b.set = true
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			b.over, b.limit = true, mbe.Limit
		case errors.Is(err, os.ErrDeadlineExceeded):
			b.timedOut = true
			b.readErr = err
		default:
			b.readErr = err
		}
	}
	return n, err
}

// done clears the deadline once the body is read, so that the server's
// wait for the end of the connection does not time out (which would cancel
// the request's context while the Sink is still writing). A body not read
// to its end (refused, or timed out) gets a deadline in the past instead:
// the server would otherwise try to drain the rest of it with no deadline
// at all, and a stalled client would hold the connection; now the server
// closes it.
func (b *bodyReader) done() {
	if !b.set {
		return
	}
	if b.eof {
		_ = b.rc.SetReadDeadline(time.Time{})
	} else {
		_ = b.rc.SetReadDeadline(time.Now())
	}
}

// explain turns a failed body read (err, after decompression by enc) into
// the error the client gets. Messages name the condition; the cause,
// which may carry addresses, goes into Err for the log.
func (b *bodyReader) explain(err error, enc string) error {
	switch {
	case b.over:
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
			Message: fmt.Sprintf("request body is larger than the limit of %d bytes", b.limit), Err: err}
	case b.timedOut:
		msg := fmt.Sprintf("request body not received in time: %d bytes in %s; a body must deliver a byte at least every %s",
			b.n, time.Since(b.start).Round(time.Millisecond), b.timeout)
		if b.rate > 0 {
			msg += fmt.Sprintf(" and arrive at %.0f bytes/s on average after the first %s", b.rate, b.timeout)
		}
		return &Error{Status: http.StatusRequestTimeout, Code: CodeHTTPReadError, Message: msg, Err: errors.Join(errBodyTimeout, err)}
	case b.readErr != nil:
		return &Error{Status: http.StatusBadRequest, Code: CodeHTTPReadError,
			Message: "reading the request body failed: the connection broke or the body is shorter than its Content-Length", Err: err}
	case errors.Is(err, zstd.ErrDecoderSizeExceeded), errors.Is(err, zstd.ErrWindowSizeExceeded):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
			Message: fmt.Sprintf("%s body needs more memory to decompress than allowed (window over %d bytes or size over the decoded limit)", enc, maxZstdWindow), Err: err}
	case enc != "" && enc != "identity":
		return decodeBodyErr(enc, err)
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeHTTPReadError, Message: "reading the request body failed", Err: err}
}
