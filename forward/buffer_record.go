package forward

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/collectkit/collectkit/point"
)

// The buffer is a directory of segment files, each a sequence of records:
//
//	u32 body length | u8 category | u32 points | u16 meta length |
//	u32 CRC-32C of the body | u32 CRC-32C of the 15 header bytes before it | body
//
// all little-endian. The body is the meta (in relay mode, the batch's
// input, source and version separated by NUL bytes; otherwise empty)
// followed by line protocol, one line per point. The header has its own
// checksum so that a damaged length is recognised as damage (not taken
// for a record cut short by a crash), and the next intact record can be
// found by searching for a header whose checksum matches.
// Segments are named by a 20-digit increasing id. The file "cursor" holds
// the position (segment id, offset) up to which everything has been
// delivered, with its own CRC. Records are only appended; a segment is
// deleted when the cursor has passed it (or, under FullDropOldest, when it
// is dropped unread).
const (
	recHeaderSize = 19
	segSuffix     = ".seg"
	cursorName    = "cursor"
	lockName      = "lock"
	cursorSize    = 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recHeader is a decoded record header.
type recHeader struct {
	n       int64 // body length
	cat     point.Category
	points  int
	metaLen int
	bodyCRC uint32
}

// parseHeader decodes a record header and reports whether its checksum
// matches.
func parseHeader(h []byte) (recHeader, bool) {
	if len(h) < recHeaderSize || crc32.Checksum(h[:15], castagnoli) != binary.LittleEndian.Uint32(h[15:19]) {
		return recHeader{}, false
	}
	return recHeader{
		n:       int64(binary.LittleEndian.Uint32(h[0:4])),
		cat:     point.Category(h[4]),
		points:  int(binary.LittleEndian.Uint32(h[5:9])),
		metaLen: int(binary.LittleEndian.Uint16(h[9:11])),
		bodyCRC: binary.LittleEndian.Uint32(h[11:15]),
	}, true
}

// findHeader returns the first offset in [from, limit) where an intact
// header starts whose record ends by limit, or -1.
func findHeader(f io.ReaderAt, from, limit int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+recHeaderSize-1)
	for base := from; base+recHeaderSize <= limit; base += chunk {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), limit-base)], base)
		if err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		for i := 0; i+recHeaderSize <= n && i < chunk; i++ {
			if h, ok := parseHeader(buf[i : i+recHeaderSize]); ok && base+int64(i)+recHeaderSize+h.n <= limit {
				return base + int64(i), nil
			}
		}
		if n < len(buf) {
			break
		}
	}
	return -1, nil
}

// scanSegment walks the record headers of a segment and counts its points
// (and, in before, the points of the records that end by cut). A record
// that runs past the end of the file (a crash during a write) is cut off.
// A damaged header is skipped up to the next intact one (or the end); the
// lines in between are counted in lost, since every point is one line.
// Body checksums are verified later, by the reader, which skips and counts
// damaged records.
func scanSegment(path string, id uint64, cut int64, log *slog.Logger) (_ *segment, before, lost int64, _ error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("forward: opening buffer segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("forward: buffer segment: %w", err)
	}
	size := st.Size()
	s := &segment{id: id}
	var hdr [recHeaderSize]byte
	for s.size+recHeaderSize <= size {
		if _, err := f.ReadAt(hdr[:], s.size); err != nil {
			return nil, 0, 0, fmt.Errorf("forward: reading buffer segment %s: %w", filepath.Base(path), err)
		}
		h, ok := parseHeader(hdr[:])
		if ok {
			end := s.size + recHeaderSize + h.n
			if end > size {
				break // torn tail
			}
			s.points += int64(h.points)
			if end <= cut {
				before += int64(h.points)
			}
			s.size = end
			continue
		}
		next, err := findHeader(f, s.size+1, size)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("forward: reading buffer segment %s: %w", filepath.Base(path), err)
		}
		if next < 0 {
			next = size // nothing intact after it: cut it off below
		}
		n := int64(0)
		if s.size >= cut { // not yet delivered
			n = countLines(f, s.size+recHeaderSize, next)
			lost += n
		}
		log.Error("forward: damaged record header in the buffer; skipping to the next intact record",
			"segment", filepath.Base(path), "offset", s.size, "bytes_skipped", next-s.size, "points_lost", n)
		if next == size {
			break
		}
		s.size = next
	}
	if s.size != size {
		log.Warn("forward: buffer segment has an incomplete or damaged record at its end; cutting it off",
			"segment", filepath.Base(path), "valid_bytes", s.size, "file_bytes", size)
		if err := f.Truncate(s.size); err != nil {
			return nil, 0, 0, fmt.Errorf("forward: truncating buffer segment: %w", err)
		}
	}
	return s, before, lost, nil
}

// countLines counts the newlines in [from, to) of f.
func countLines(f io.ReaderAt, from, to int64) int64 {
	buf := make([]byte, 64<<10)
	var n int64
	for off := from; off < to; off += int64(len(buf)) {
		k, _ := f.ReadAt(buf[:min(int64(len(buf)), to-off)], off)
		if k == 0 {
			break
		}
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
	}
	return n
}

// appendRecord appends one record for meta and payload (npoints lines of
// category cat) to dst.
func appendRecord(dst []byte, cat point.Category, npoints int, meta string, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recHeaderSize)...)
	dst = append(dst, meta...)
	dst = append(dst, payload...)
	sealRecord(dst[start:], cat, npoints, len(meta))
	return dst
}

// sealRecord fills in the header of a record whose body (metaLen bytes of
// meta, then the payload) was appended after a recHeaderSize placeholder.
func sealRecord(rec []byte, cat point.Category, npoints, metaLen int) {
	body := rec[recHeaderSize:]
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(body)))
	rec[4] = byte(cat)
	binary.LittleEndian.PutUint32(rec[5:9], uint32(npoints))
	binary.LittleEndian.PutUint16(rec[9:11], uint16(metaLen))
	binary.LittleEndian.PutUint32(rec[11:15], crc32.Checksum(body, castagnoli))
	binary.LittleEndian.PutUint32(rec[15:19], crc32.Checksum(rec[:15], castagnoli))
}
