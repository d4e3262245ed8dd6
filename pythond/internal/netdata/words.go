package netdata

import "fmt"

// maxWords is the most words of a line that are looked at. CHART, the
// longest command, has 13; further words are ignored, as Netdata does.
const maxWords = 16

// splitWords splits line into at most len(dst) words into dst and returns
// how many it found. Words are separated by spaces and tabs; a word that
// starts with ' or " runs to the next same quote and may hold spaces (the
// quotes are not part of the word; ” is an empty word). The words alias
// line. An unterminated quote is an error wrapping ErrSyntax.
func splitWords(line []byte, dst *[maxWords][]byte) (int, error) {
	n := 0
	i := 0
	for i < len(line) && n < len(dst) {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '\'' || c == '"' {
			j := i + 1
			for j < len(line) && line[j] != c {
				j++
			}
			if j == len(line) {
				return n, fmt.Errorf("%w: unterminated %c quote at column %d", ErrSyntax, c, i+1)
			}
			dst[n] = line[i+1 : j]
			n++
			i = j + 1
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		dst[n] = line[i:j]
		n++
		i = j
	}
	return n, nil
}

// parseInt parses a decimal int64 with an optional sign, without
// allocating. ok is false for an empty or malformed word or an overflow.
func parseInt(b []byte) (v int64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}
