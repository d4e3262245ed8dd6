package pythond

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// errFrameTooLarge marks a frame whose payload was skipped.
var errFrameTooLarge = errors.New("report too large")

// frame is one message from Python. Meta and Payload alias the reader's
// buffer until the next call to next.
type frame struct {
	Kind    byte
	Meta    []byte
	Payload []byte
}

// frameReader reads frames from the data pipe, reusing one buffer.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
	max int
}

func newFrameReader(r io.Reader, maxPayload int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), max: maxPayload}
}

// next reads one whole frame. A frame cut short by the end of the stream
// is io.ErrUnexpectedEOF and must not be used. A payload over the limit is
// skipped: next returns the frame with its meta, a nil payload and an error
// wrapping errFrameTooLarge, and the stream stays usable.
func (fr *frameReader) next() (frame, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if err == io.EOF {
			return frame{}, io.EOF
		}
		return frame{}, io.ErrUnexpectedEOF
	}
	kind := hdr[0]
	metaLen := int(binary.BigEndian.Uint16(hdr[1:3]))
	payloadLen := int64(binary.BigEndian.Uint32(hdr[3:7]))
	if payloadLen > int64(fr.max) {
		meta := make([]byte, metaLen)
		if _, err := io.ReadFull(fr.r, meta); err != nil {
			return frame{}, io.ErrUnexpectedEOF
		}
		if _, err := io.CopyN(io.Discard, fr.r, payloadLen); err != nil {
			return frame{}, io.ErrUnexpectedEOF
		}
		return frame{Kind: kind, Meta: meta}, fmt.Errorf("%w: %d bytes, the limit is %d", errFrameTooLarge, payloadLen, fr.max)
	}
	n := metaLen + int(payloadLen)
	if cap(fr.buf) < n {
		fr.buf = make([]byte, n)
	}
	b := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		return frame{}, io.ErrUnexpectedEOF
	}
	return frame{Kind: kind, Meta: b[:metaLen], Payload: b[metaLen:]}, nil
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
}

func parseDataMeta(meta []byte) (dataMeta, error) {
	parts := strings.SplitN(string(meta), metaSep, 8)
	if len(parts) != 7 {
		return dataMeta{}, fmt.Errorf("malformed data frame meta %q", meta)
	}
	return dataMeta{
		Seq: parts[0], Category: parts[1], Input: parts[2], Collector: parts[3],
		Precision: parts[4], Version: parts[5], IgnoreGlobalTags: parts[6] != "",
	}, nil
}
