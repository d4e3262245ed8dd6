package pythond

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The frame format shared with _collectkit_channel.py: a 7-byte header
// (kind, meta length as uint16, payload length as uint32, big endian)
// followed by meta and payload.
const (
	frameHeaderLen = 7

	kindData      = 'D'
	kindLog       = 'G'
	kindLastError = 'L'
	kindAck       = 'A'

	metaSep = "\x1f"
)

// DefaultMaxReportBytes is the largest report payload accepted when
// Options.MaxReportBytes is zero.
const DefaultMaxReportBytes = 256 << 20

// frameHeader is the start of one message from Python: its kind, its
// meta (aliasing the reader's buffer until the next call) and the length of
// the payload that follows, which must be read with payload or skip.
type frameHeader struct {
	Kind       byte
	Meta       []byte
	PayloadLen int
}

// frameReader reads frames from the data pipe.
type frameReader struct {
	r    *bufio.Reader
	meta []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// header reads the header and meta of the next frame. It returns io.EOF at
// a clean end of stream and io.ErrUnexpectedEOF for a frame cut short (the
// process died while writing it), which must not be used.
func (fr *frameReader) header() (frameHeader, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if err == io.EOF {
			return frameHeader{}, io.EOF
		}
		return frameHeader{}, io.ErrUnexpectedEOF
	}
	metaLen := int(binary.BigEndian.Uint16(hdr[1:3]))
	fr.meta = slices.Grow(fr.meta[:0], metaLen)[:metaLen]
	if _, err := io.ReadFull(fr.r, fr.meta); err != nil {
		return frameHeader{}, io.ErrUnexpectedEOF
	}
	return frameHeader{Kind: hdr[0], Meta: fr.meta, PayloadLen: int(binary.BigEndian.Uint32(hdr[3:7]))}, nil
}

// payload reads the n-byte payload into dst, grown as needed.
func (fr *frameReader) payload(dst []byte, n int) ([]byte, error) {
	dst = slices.Grow(dst[:0], n)[:n]
	if _, err := io.ReadFull(fr.r, dst); err != nil {
		return dst[:0], io.ErrUnexpectedEOF
	}
	return dst, nil
}

// skip discards an n-byte payload.
func (fr *frameReader) skip(n int) error {
	if _, err := io.CopyN(io.Discard, fr.r, int64(n)); err != nil {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// appendAck appends the answer to data frame seq: status "ok" or "error"
// with msg as payload.
func appendAck(dst []byte, seq string, ok bool, msg string) []byte {
	status := "ok"
	if !ok {
		status = "error"
	}
	metaLen := len(seq) + 1 + len(status)
	dst = append(dst, kindAck, byte(metaLen>>8), byte(metaLen))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	dst = append(dst, seq...)
	dst = append(dst, metaSep...)
	dst = append(dst, status...)
	return append(dst, msg...)
}

// dataMeta is the meta of a data frame.
type dataMeta struct {
	Seq, Category, Input, Collector, Precision, Version string
	IgnoreGlobalTags                                    bool
	// More is true on every chunk of a report but the last; Abort on the
	// last chunk drops the whole report.
	More, Abort bool
}

func parseDataMeta(meta []byte) (dataMeta, error) {
	parts := strings.SplitN(string(meta), metaSep, 9)
	if len(parts) != 8 {
		return dataMeta{}, fmt.Errorf("malformed data frame meta %q", meta)
	}
	return dataMeta{
		Seq: parts[0], Category: parts[1], Input: parts[2], Collector: parts[3],
		Precision: parts[4], Version: parts[5], IgnoreGlobalTags: parts[6] != "",
		More: parts[7] == "1", Abort: parts[7] == "abort",
	}, nil
}
