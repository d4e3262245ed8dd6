package httpapi

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// maxPooledBuffer is the largest buffer put back into the pool; bigger ones
// are left to the garbage collector so one huge request does not pin memory.
const maxPooledBuffer = 4 << 20

// minBodyBuffer is the smallest buffer a body is read into.
const minBodyBuffer = 64 << 10

// bufferPool hands out byte slices for request bodies.
type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *[]byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, minBodyBuffer)
	return &b
}

func (bp *bufferPool) put(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bp.p.Put(b)
}

// reqBody is a request body read under the limits, with the request's
// share of the memory budget. close gives both back; data is only valid
// until then.
type reqBody struct {
	data  []byte
	lines int // newlines, plus one for a last line without one; counted when asked
	buf   *[]byte
	lease lease
	pool  *bufferPool
}

func (b *reqBody) close() {
	if b.buf != nil {
		b.pool.put(b.buf)
		b.buf = nil
	}
	b.lease.release()
}

// Causes of the errors readBody returns, for classify.
var (
	errBodyTimeout = errors.New("httpapi: request body read timed out")
)

// readBody reads the request body into a pooled buffer and undoes its
// content encoding (the ?encoding= parameter wins over the
// Content-Encoding header) as the bytes arrive, so that no more than
// MaxDecodedBytes (and, for a plain body, MaxBodyBytes) is ever held. The
// buffer grows as data arrives, taking its growth from the in-flight
// budget; Content-Length only caps the growth, so a client that declares a
// large body and sends it slowly holds only what it has sent. With lines
// set, the body's lines are counted as they arrive and more than MaxPoints
// of them stop the read. The caller must close the result.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, encoding string, lines bool) (*reqBody, error) {
	lim := &h.opts.Limits
	maxBody := lim.MaxBodyBytes
	if maxBody >= 0 && r.ContentLength > maxBody {
		return nil, apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"Content-Length %d is over the body limit of %d bytes", r.ContentLength, maxBody)
	}
	enc := strings.ToLower(strings.TrimSpace(encoding))
	switch enc {
	case "", "identity", "gzip", "x-gzip", "deflate", "zlib", "zstd":
	default:
		return nil, apiErr(http.StatusBadRequest, CodeDecodeBodyFailed,
			"unsupported content encoding %q (want gzip, deflate, zlib, zstd or identity)", enc)
	}
	var src io.Reader = r.Body
	if maxBody >= 0 {
		// MaxBytesReader also tells the server to close the connection
		// instead of draining an oversized body.
		src = http.MaxBytesReader(w, r.Body, maxBody)
	}
	br := h.bodyReader(w, src)
	defer br.done()
	defer func() { h.metrics.bytes[h.patterns[r.Pattern]].Add(uint64(br.n)) }()

	b := &reqBody{lease: lease{b: h.budget, busy: h.opts.BusyStatus}, pool: &h.bufs}
	limit := lim.MaxDecodedBytes
	hint := int64(-1)
	var (
		in     io.Reader = br
		finish           = func() {}
	)
	if enc == "" || enc == "identity" {
		if maxBody >= 0 && (limit < 0 || maxBody < limit) {
			limit = maxBody
		}
		hint = r.ContentLength
	} else {
		var err error
		in, finish, err = h.decompressor(enc, br, limit)
		if err != nil {
			return nil, br.explain(err, enc)
		}
	}
	b.buf = h.bufs.get()
	maxLines := -1
	if lines {
		maxLines = lim.MaxPoints
	}
	err := b.lease.grow(int64(cap(*b.buf)), "the body")
	if err == nil {
		*b.buf, b.lines, err = fill(*b.buf, in, limit, hint, maxLines, &b.lease)
	}
	if err == nil && !br.eof {
		// A decompressor may stop at the end of its stream without
		// reading the body's end; reading it lets the connection be
		// kept alive (done closes one whose body was not read through).
		var one [1]byte
		_, _ = br.Read(one[:])
	}
	finish()
	if err != nil {
		b.close()
		var ae *Error
		if errors.As(err, &ae) && !br.over && !br.timedOut {
			return nil, err
		}
		if errors.Is(err, errOverLimit) {
			if enc == "" || enc == "identity" {
				return nil, apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
					"request body is larger than the limit of %d bytes", limit)
			}
			return nil, apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
				"%s body decompresses to more than the limit of %d bytes", enc, limit)
		}
		if errors.Is(err, errTooManyLines) {
			return nil, apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
				"body has more than %d lines, the limit of points per request; send it in smaller batches", maxLines)
		}
		return nil, br.explain(err, enc)
	}
	b.data = *b.buf
	return b, nil
}

var (
	errOverLimit    = errors.New("httpapi: body over the limit")
	errTooManyLines = errors.New("httpapi: body has too many lines")
)

// fill appends what r yields to buf, growing it (and l with it) as data
// arrives: by four, capped by hint+1 (a known length) and limit+1. It
// reads at most limit bytes (limit < 0: no limit) and, when maxLines >= 0,
// counts newlines, stopping at more than maxLines lines.
func fill(buf []byte, r io.Reader, limit, hint int64, maxLines int, l *lease) ([]byte, int, error) {
	lines := 0
	for {
		if len(buf) == cap(buf) {
			// Growing by four leaves less garbage behind than doubling
			// (a third of the final size instead of all of it).
			n := max(4*cap(buf), minBodyBuffer)
			if hint > 0 && int64(len(buf)) <= hint && int64(n) > hint+1 {
				n = int(hint + 1)
			}
			if limit >= 0 && int64(n) > limit+1 {
				n = int(limit + 1)
			}
			if n <= cap(buf) {
				n = cap(buf) + minBodyBuffer
			}
			if err := l.grow(int64(n-cap(buf)), "the body"); err != nil {
				return buf, lines, err
			}
			// The old array stays charged: it is garbage once copied, but
			// it is memory until the collector takes it, and the budget
			// is there to bound memory.
			nb := make([]byte, len(buf), n)
			copy(nb, buf)
			buf = nb
		}
		room := buf[len(buf):cap(buf)]
		if limit >= 0 {
			if left := limit + 1 - int64(len(buf)); int64(len(room)) > left {
				room = room[:left]
			}
		}
		n, err := r.Read(room)
		if maxLines >= 0 && n > 0 {
			lines += bytes.Count(room[:n], newline)
			if lines > maxLines {
				return buf, lines, errTooManyLines
			}
		}
		buf = buf[:len(buf)+n]
		if limit >= 0 && int64(len(buf)) > limit {
			return buf, lines, errOverLimit
		}
		if err == io.EOF {
			if len(buf) > 0 && buf[len(buf)-1] != '\n' {
				lines++
				if maxLines >= 0 && lines > maxLines {
					return buf, lines, errTooManyLines
				}
			}
			return buf, lines, nil
		}
		if err != nil {
			return buf, lines, err
		}
	}
}

var newline = []byte{'\n'}

// decompressor returns a reader that undoes enc on in, and what to call
// when done with it.
func (h *Handler) decompressor(enc string, in io.Reader, limit int64) (io.Reader, func(), error) {
	bufr, _ := h.bufrs.Get().(*bufio.Reader)
	if bufr == nil {
		bufr = bufio.NewReaderSize(in, 16<<10)
	} else {
		bufr.Reset(in)
	}
	putBufr := func() { bufr.Reset(nil); h.bufrs.Put(bufr) }
	if _, err := bufr.Peek(1); err == io.EOF {
		// An empty body stays empty, whatever its encoding says.
		return bufr, putBufr, nil
	}
	switch enc {
	case "gzip", "x-gzip":
		zr, _ := h.gzips.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bufr)
		} else {
			err = zr.Reset(bufr)
		}
		if err != nil {
			putBufr()
			return nil, nil, err
		}
		zr.Multistream(true)
		return zr, func() { h.gzips.Put(zr); putBufr() }, nil
	case "deflate", "zlib":
		// DataKit accepts both raw deflate and zlib-wrapped deflate under
		// "deflate"; the zlib header tells them apart.
		if head, _ := bufr.Peek(2); isZlibHeader(head) {
			zr, err := zlib.NewReader(bufr)
			if err != nil {
				putBufr()
				return nil, nil, err
			}
			return zr, func() { _ = zr.Close(); putBufr() }, nil
		}
		fr := flate.NewReader(bufr)
		return fr, func() { _ = fr.Close(); putBufr() }, nil
	case "zstd":
		zd, _ := h.zstds.Get().(*zstd.Decoder)
		if zd == nil {
			var err error
			opts := []zstd.DOption{zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxWindow(maxZstdWindow)}
			if limit > 0 {
				opts = append(opts, zstd.WithDecoderMaxMemory(uint64(limit)+1))
			}
			zd, err = zstd.NewReader(nil, opts...)
			if err != nil {
				putBufr()
				return nil, nil, err
			}
		}
		if err := zd.Reset(bufr); err != nil {
			h.zstds.Put(zd)
			putBufr()
			return nil, nil, err
		}
		return zd, func() { _ = zd.Reset(nil); h.zstds.Put(zd); putBufr() }, nil
	}
	putBufr()
	return nil, nil, fmt.Errorf("unsupported content encoding %q", enc)
}

// maxZstdWindow is the largest zstd window accepted: 8 MiB, what RFC 8878
// asks every decoder to support and what zstd's levels up to 19 use. A
// pooled decoder keeps its window, so a larger one would pin memory.
const maxZstdWindow = 8 << 20

// isZlibHeader reports whether b starts with a zlib (RFC 1950) header.
func isZlibHeader(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	cmf, flg := b[0], b[1]
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

func decodeBodyErr(enc string, err error) error {
	return &Error{Status: http.StatusBadRequest, Code: CodeDecodeBodyFailed,
		Message: fmt.Sprintf("cannot decode %s body: %v", enc, err), Err: err}
}

// readJSONBody reads a small JSON request body of the auxiliary endpoints.
func (h *Handler) readJSONBody(w http.ResponseWriter, r *http.Request) (*reqBody, error) {
	body, err := h.readBody(w, r, r.Header.Get("Content-Encoding"), false)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body.data)) == 0 {
		body.close()
		return nil, apiErr(http.StatusBadRequest, CodeEmptyBody, "request body is empty, want a JSON object")
	}
	return body, nil
}
