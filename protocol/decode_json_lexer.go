package protocol

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth bounds the nesting of values skipped under unknown keys.
const maxJSONDepth = 1000

func (s *jsonScanner) peek() byte {
	if s.pos < len(s.buf) {
		return s.buf[s.pos]
	}
	return 0
}

func (s *jsonScanner) ws() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// syntax returns a syntax error at the current position.
func (s *jsonScanner) syntax(want string) *DecodeError {
	what := "end of body"
	if s.pos < len(s.buf) {
		what = fmt.Sprintf("%q", s.buf[s.pos])
	}
	return &DecodeError{Element: s.elem, Err: fmt.Errorf("%w: found %s at offset %d: %s", ErrSyntax, what, s.pos, want)}
}

// object scans the members of an object whose '{' has been consumed,
// calling member with each key when the scanner is at its value.
func (s *jsonScanner) object(member func(key string) *DecodeError) *DecodeError {
	s.ws()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntax("want an object key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.peek() != ':' {
			return s.syntax("want ':' after an object key")
		}
		s.pos++
		s.ws()
		if err := member(key); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
			s.ws()
		case '}':
			s.pos++
			return nil
		default:
			return s.syntax("want ',' or '}' after an object member")
		}
	}
}

// parseFloat parses a JSON number or one of Python's NaN, Infinity and
// -Infinity. A number too large for float64 is an error, not infinity.
func parseFloat(text string) (float64, error) {
	switch text {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(text, 64)
}

// scanNumber moves past a number and reports whether it is an integer
// literal (no fraction, no exponent).
func (s *jsonScanner) scanNumber() (isInt bool, err *DecodeError) {
	b := s.buf
	i := s.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && (b[i] == 'N' || b[i] == 'I') {
		word := "Infinity"
		if b[i] == 'N' {
			word = "NaN"
			if i != s.pos { // "-NaN" is not something json.dumps writes
				return false, s.syntax("want a number")
			}
		}
		if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
			s.pos = i
			return false, s.syntax("want a number")
		}
		s.pos = i + len(word)
		return false, nil
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return false, s.syntax("want a number")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d0 := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d0 {
			s.pos = i
			return false, s.syntax("want a digit after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d0 := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d0 {
			s.pos = i
			return false, s.syntax("want a digit in the exponent")
		}
	}
	s.pos = i
	return isInt, nil
}

// literal consumes the word w (true, false or null).
func (s *jsonScanner) literal(w string) *DecodeError {
	if len(s.buf)-s.pos < len(w) || string(s.buf[s.pos:s.pos+len(w)]) != w {
		return s.syntax("want " + w)
	}
	s.pos += len(w)
	return nil
}

// skipValue moves past any JSON value, checking its syntax.
func (s *jsonScanner) skipValue(depth int) *DecodeError {
	if depth > maxJSONDepth {
		return s.syntax("values nested too deeply")
	}
	switch c := s.peek(); c {
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case '{':
		s.pos++
		return s.object(func(string) *DecodeError { return s.skipValue(depth + 1) })
	case '[':
		s.pos++
		s.ws()
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.pos++
				s.ws()
			case ']':
				s.pos++
				return nil
			default:
				return s.syntax("want ',' or ']' in an array")
			}
		}
	}
	_, err := s.scanNumber()
	return err
}

// str scans a string at s.pos (which is '"'). Strings without escapes
// alias the body; others are unescaped into the decoder's arena.
func (s *jsonScanner) str() (string, *DecodeError) {
	b := s.buf
	start := s.pos + 1
	i := start
	ascii := true
	for i < len(b) {
		c := b[i]
		if c == '"' {
			v := b[start:i]
			if !ascii && !utf8.Valid(v) {
				return "", s.utf8Error(start)
			}
			s.pos = i + 1
			if len(v) == 0 {
				return "", nil
			}
			return unsafe.String(&v[0], len(v)), nil
		}
		if c == '\\' {
			return s.unescape(start, i, ascii)
		}
		if c < 0x20 {
			s.pos = i
			return "", s.syntax("control character in a string")
		}
		if c >= 0x80 {
			ascii = false
		}
		i++
	}
	s.pos = i
	return "", s.syntax("unterminated string")
}

func (s *jsonScanner) utf8Error(start int) *DecodeError {
	return &DecodeError{Element: s.elem, Err: fmt.Errorf("%w in the string at offset %d", ErrInvalidUTF8, start-1)}
}

// unescape decodes a string with escapes whose first backslash is at i,
// building it at the end of the arena.
func (s *jsonScanner) unescape(start, i int, ascii bool) (string, *DecodeError) {
	d := s.d
	b := s.buf
	// Appending may move the arena to a bigger array; strings handed out
	// earlier keep the old one alive, and nothing below len is rewritten.
	a0 := len(d.arena)
	out := append(d.arena, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			v := out[a0:]
			if !ascii && !utf8.Valid(v) {
				return "", s.utf8Error(start)
			}
			s.pos = i + 1
			d.arena = out
			if len(v) == 0 {
				return "", nil
			}
			return unsafe.String(&v[0], len(v)), nil
		case c == '\\':
			if i+1 >= len(b) {
				s.pos = i
				return "", s.syntax("unterminated escape")
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out = append(out, '\b')
				i += 2
			case 'f':
				out = append(out, '\f')
				i += 2
			case 'n':
				out = append(out, '\n')
				i += 2
			case 'r':
				out = append(out, '\r')
				i += 2
			case 't':
				out = append(out, '\t')
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					s.pos = i
					return "", s.syntax("want four hex digits after \\u")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2, ok2 = hex4(b, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				s.pos = i
				return "", s.syntax("invalid escape")
			}
		case c < 0x20:
			s.pos = i
			return "", s.syntax("control character in a string")
		default:
			if c >= 0x80 {
				ascii = false
			}
			out = append(out, c)
			i++
		}
	}
	s.pos = i
	return "", s.syntax("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if len(b)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
