package httpapi

import (
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
const maxPooledBuffer = 16 << 20

// bufferPool hands out byte slices for request bodies.
type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *[]byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (bp *bufferPool) put(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bp.p.Put(b)
}

// decodedSizeHint guesses the decompressed size of n compressed bytes
// (text compresses about 4 to 10 times), capped by the limit.
func decodedSizeHint(n int, limit int64) int {
	want := int64(n) * 6
	if limit >= 0 && want > limit+1 {
		want = limit + 1
	}
	if want > maxPooledBuffer {
		want = maxPooledBuffer
	}
	return int(want)
}

// readAll appends everything r yields to buf, reading at most limit bytes
// (limit < 0: no limit). It reports whether the limit was exceeded.
func readAll(buf []byte, r io.Reader, limit int64) ([]byte, bool, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if limit >= 0 {
			left := limit + 1 - int64(len(buf))
			if int64(len(room)) > left {
				room = room[:left]
			}
		}
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if limit >= 0 && int64(len(buf)) > limit {
			return buf, true, nil
		}
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}

// readBody reads the request body into a pooled buffer, enforcing
// MaxBodyBytes, and undoes the content encoding (the ?encoding= parameter
// wins over the Content-Encoding header) enforcing MaxDecodedBytes. The
// returned release function gives the buffers back; the body is only valid
// until it is called.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, encoding string) ([]byte, func(), error) {
	maxBody := h.opts.Limits.MaxBodyBytes
	if maxBody >= 0 && r.ContentLength > maxBody {
		return nil, nil, apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"Content-Length %d is over the body limit of %d bytes", r.ContentLength, maxBody)
	}
	raw := h.bufs.get()
	if r.ContentLength > 0 && int64(cap(*raw)) < r.ContentLength+1 {
		*raw = make([]byte, 0, r.ContentLength+1)
	}
	body := r.Body
	if maxBody >= 0 {
		// MaxBytesReader also tells the server to close the connection
		// instead of draining an oversized body.
		body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	var err error
	*raw, _, err = readAll(*raw, body, -1)
	if err != nil {
		h.bufs.put(raw)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, err
		}
		return nil, nil, &Error{Status: http.StatusBadRequest, Code: CodeHTTPReadError, Message: "reading request body: " + err.Error(), Err: err}
	}
	enc := strings.ToLower(strings.TrimSpace(encoding))
	if enc == "" || enc == "identity" || len(*raw) == 0 {
		return *raw, func() { h.bufs.put(raw) }, nil
	}
	// Decoded bodies have their own pool: they are several times larger
	// than the compressed ones, and mixing the two would make each request
	// grow a small buffer again.
	out := h.decoded.get()
	if want := decodedSizeHint(len(*raw), h.opts.Limits.MaxDecodedBytes); cap(*out) < want {
		*out = make([]byte, 0, want)
	}
	*out, err = h.decompress(*out, *raw, enc)
	h.bufs.put(raw)
	if err != nil {
		h.decoded.put(out)
		return nil, nil, err
	}
	return *out, func() { h.decoded.put(out) }, nil
}

// decompress appends the decoding of in (in encoding enc) to dst.
func (h *Handler) decompress(dst, in []byte, enc string) ([]byte, error) {
	limit := h.opts.Limits.MaxDecodedBytes
	var (
		src    io.Reader
		finish func()
	)
	switch enc {
	case "gzip", "x-gzip":
		zr, _ := h.gzips.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(in))
		} else {
			err = zr.Reset(bytes.NewReader(in))
		}
		if err != nil {
			return dst, decodeBodyErr(enc, err)
		}
		src, finish = zr, func() { h.gzips.Put(zr) }
	case "deflate", "zlib":
		// DataKit accepts both raw deflate and zlib-wrapped deflate under
		// "deflate"; the zlib header tells them apart.
		if isZlibHeader(in) {
			zr, err := zlib.NewReader(bytes.NewReader(in))
			if err != nil {
				return dst, decodeBodyErr(enc, err)
			}
			src, finish = zr, func() { _ = zr.Close() }
		} else {
			fr := flate.NewReader(bytes.NewReader(in))
			src, finish = fr, func() { _ = fr.Close() }
		}
	case "zstd":
		zd, _ := h.zstds.Get().(*zstd.Decoder)
		if zd == nil {
			var err error
			opts := []zstd.DOption{zstd.WithDecoderConcurrency(1)}
			if limit > 0 {
				opts = append(opts, zstd.WithDecoderMaxMemory(uint64(limit)+1))
			}
			zd, err = zstd.NewReader(nil, opts...)
			if err != nil {
				return dst, err
			}
		}
		if err := zd.Reset(bytes.NewReader(in)); err != nil {
			h.zstds.Put(zd)
			return dst, decodeBodyErr(enc, err)
		}
		// A frame that declares a size over the limit fails on the first read.
		src, finish = zd, func() { _ = zd.Reset(nil); h.zstds.Put(zd) }
	default:
		return dst, apiErr(http.StatusBadRequest, CodeDecodeBodyFailed,
			"unsupported content encoding %q (want gzip, deflate, zlib, zstd or identity)", enc)
	}
	defer finish()
	out, over, err := readAll(dst, src, limit)
	if over {
		return out, apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"%s body decompresses to more than the limit of %d bytes", enc, limit)
	}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return out, err
		}
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return out, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
				Message: fmt.Sprintf("%s body decompresses to more than the limit of %d bytes", enc, limit), Err: err}
		}
		return out, decodeBodyErr(enc, err)
	}
	return out, nil
}

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
func (h *Handler) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, func(), error) {
	body, release, err := h.readBody(w, r, r.Header.Get("Content-Encoding"))
	if err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		release()
		return nil, nil, apiErr(http.StatusBadRequest, CodeEmptyBody, "request body is empty, want a JSON object")
	}
	return body, release, nil
}
