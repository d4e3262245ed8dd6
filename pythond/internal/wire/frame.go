package wire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Frames are specified in FORMAT.md: a HeaderLen-byte header (kind,
// meta length, payload length), then meta and payload.
const (
	HeaderLen = 7

	KindData      = 'D' // a chunk of a report: points, answered with KindAck
	KindLog       = 'G' // a log record (JSON)
	KindLastError = 'L' // set_lasterror (JSON)
	KindAck       = 'A' // the host's answer to a report
	KindPlugins   = 'P' // netdata: plugins.d text protocol lines
	KindJob       = 'J' // netdata: a job's state (JSON)

	// MetaSep separates the fields of a meta.
	MetaSep = "\x1f"
)

// Header is the start of one frame: its kind, its meta (aliasing the
// reader's buffer until the next call) and the length of the payload that
// follows, which must be read with Payload or Skip.
type Header struct {
	Kind       byte
	Meta       []byte
	PayloadLen int
}

// Reader reads frames from the data pipe. It is not safe for concurrent
// use.
type Reader struct {
	r    *bufio.Reader
	meta []byte
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Header reads the header and meta of the next frame. It returns io.EOF
// at a clean end of stream and io.ErrUnexpectedEOF for a frame cut short
// (the process died while writing it), which must not be used.
func (fr *Reader) Header() (Header, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if err == io.EOF {
			return Header{}, io.EOF
		}
		return Header{}, io.ErrUnexpectedEOF
	}
	metaLen := int(binary.BigEndian.Uint16(hdr[1:3]))
	fr.meta = slices.Grow(fr.meta[:0], metaLen)[:metaLen]
	if _, err := io.ReadFull(fr.r, fr.meta); err != nil {
		return Header{}, io.ErrUnexpectedEOF
	}
	return Header{Kind: hdr[0], Meta: fr.meta, PayloadLen: int(binary.BigEndian.Uint32(hdr[3:7]))}, nil
}

// Payload reads the n-byte payload into dst, grown as needed.
func (fr *Reader) Payload(dst []byte, n int) ([]byte, error) {
	dst = slices.Grow(dst[:0], n)[:n]
	if _, err := io.ReadFull(fr.r, dst); err != nil {
		return dst[:0], io.ErrUnexpectedEOF
	}
	return dst, nil
}

// Skip discards an n-byte payload.
func (fr *Reader) Skip(n int) error {
	if _, err := io.CopyN(io.Discard, fr.r, int64(n)); err != nil {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// AppendFrame appends a frame of kind with meta and payload to dst.
func AppendFrame(dst []byte, kind byte, meta, payload []byte) []byte {
	dst = append(dst, kind, byte(len(meta)>>8), byte(len(meta)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	dst = append(dst, meta...)
	return append(dst, payload...)
}

// AppendAck appends the answer to data frame seq: status "ok" or "error"
// with msg as payload.
func AppendAck(dst []byte, seq string, ok bool, msg string) []byte {
	status := "ok"
	if !ok {
		status = "error"
	}
	metaLen := len(seq) + 1 + len(status)
	dst = append(dst, KindAck, byte(metaLen>>8), byte(metaLen))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	dst = append(dst, seq...)
	dst = append(dst, MetaSep...)
	dst = append(dst, status...)
	return append(dst, msg...)
}

// DataMeta is the meta of a data frame.
type DataMeta struct {
	Seq, Category, Input, Collector, Precision, Version string
	IgnoreGlobalTags                                    bool
	// More is true on every chunk of a report but the last; Abort on the
	// last chunk drops the whole report.
	More, Abort bool
}

// ParseDataMeta parses the meta of a data frame.
func ParseDataMeta(meta []byte) (DataMeta, error) {
	parts := strings.SplitN(string(meta), MetaSep, 9)
	if len(parts) != 8 {
		return DataMeta{}, fmt.Errorf("malformed data frame meta %q", meta)
	}
	return DataMeta{
		Seq: parts[0], Category: parts[1], Input: parts[2], Collector: parts[3],
		Precision: parts[4], Version: parts[5], IgnoreGlobalTags: parts[6] != "",
		More: parts[7] == "1", Abort: parts[7] == "abort",
	}, nil
}
