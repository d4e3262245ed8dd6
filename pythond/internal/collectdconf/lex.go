package collectdconf

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// tokenKind is the kind of one lexical token of collectd.conf.
type tokenKind uint8

const (
	tokEOF    tokenKind = iota
	tokEOL              // end of a line
	tokString           // a quoted string, its escapes resolved
	tokWord             // a bare word: [0-9A-Za-z_]+ or an IP address (with port)
	tokNumber           // a decimal, float or hex number
	tokBool             // true, yes, on, false, no, off (lowercase only)
	tokOpen             // <
	tokClose            // >
	tokSlash            // /
)

func (k tokenKind) String() string {
	return [...]string{"the end of the file", "the end of the line", "a quoted string", "a bare word", "a number", "a boolean", "'<'", "'>'", "'/'"}[k]
}

// token is one token and the line it starts on.
type token struct {
	kind tokenKind
	text string // the word, the string's value, or the number as written
	num  float64
	b    bool
	line int
}

// lexer splits a file into tokens as collectd 5.12's scanner does (found
// by running it): at each position the longest of the patterns below
// matches, a number or boolean winning a tie with a bare word; any other
// character (such as '.', '-', ':', ',', '=', ';' or a non-ASCII byte) is
// skipped as if it were a space. A backslash before a newline joins the
// lines: between tokens it is a space, inside a quoted string it is
// removed. '#' starts a comment outside quoted strings.
type lexer struct {
	src  string
	pos  int
	line int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1} }

// next returns the next token, tokEOF at the end.
func (l *lexer) next() token {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.pos++
			l.line++
			return token{kind: tokEOL, line: l.line - 1}
		case c == '\r' && strings.HasPrefix(l.src[l.pos:], "\r\n"):
			l.pos += 2
			l.line++
			return token{kind: tokEOL, line: l.line - 1}
		case c == '\\' && continuation(l.src[l.pos+1:]) > 0:
			l.pos += 1 + continuation(l.src[l.pos+1:])
			l.line++
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && !strings.HasPrefix(l.src[l.pos:], "\r\n") {
				l.pos++
			}
		case c == '"':
			if t, ok := l.quoted(); ok {
				return t
			}
		case c == '<':
			l.pos++
			return token{kind: tokOpen, line: l.line}
		case c == '>':
			l.pos++
			return token{kind: tokClose, line: l.line}
		case c == '/':
			l.pos++
			return token{kind: tokSlash, line: l.line}
		default:
			if t, ok := l.atom(); ok {
				return t
			}
			l.pos++ // a space or a character collectd skips
		}
	}
	return token{kind: tokEOF, line: l.line}
}

// continuation returns the length of the newline that starts s (1 or 2),
// or 0.
func continuation(s string) int {
	switch {
	case strings.HasPrefix(s, "\n"):
		return 1
	case strings.HasPrefix(s, "\r\n"):
		return 2
	}
	return 0
}

// quoted reads a quoted string at l.pos: a backslash takes the next
// character literally (\" is ", \\ is \, \n is n), a backslash-newline
// is removed, and newlines may occur inside. A quote that no other closes
// is skipped like any character collectd does not know (ok is false).
func (l *lexer) quoted() (token, bool) {
	start, startLine := l.pos, l.line
	pos, line := l.pos+1, l.line
	var b strings.Builder
	for pos < len(l.src) {
		c := l.src[pos]
		switch {
		case c == '"':
			l.pos, l.line = pos+1, line
			return token{kind: tokString, text: b.String(), line: startLine}, true
		case c == '\\' && pos+1 < len(l.src):
			if n := continuation(l.src[pos+1:]); n > 0 {
				pos += 1 + n
				line++
				continue
			}
			b.WriteByte(l.src[pos+1])
			pos += 2
			continue
		case c == '\n':
			line++
		}
		b.WriteByte(c)
		pos++
	}
	l.pos = start + 1
	return token{}, false
}

// atom matches a bare word, number, boolean or IP address at l.pos,
// taking the longest.
func (l *lexer) atom() (token, bool) {
	s := l.src[l.pos:]
	word := span(s, isWordByte)
	num, isHex := numberLen(s)
	ip := ipLen(s)
	best := max(word, num, ip)
	if best == 0 {
		return token{}, false
	}
	text := s[:best]
	l.pos += best
	t := token{line: l.line, text: text}
	switch {
	case num == best:
		t.kind = tokNumber
		t.num = parseNumber(text, isHex)
	case word == best && isBool(text):
		t.kind = tokBool
		t.b = text == "true" || text == "yes" || text == "on"
	default: // a bare word or an IP address
		t.kind = tokWord
	}
	return t, true
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isBool(s string) bool {
	switch s {
	case "true", "yes", "on", "false", "no", "off":
		return true
	}
	return false
}

// span is the length of the prefix of s whose bytes satisfy f.
func span(s string, f func(byte) bool) int {
	n := 0
	for n < len(s) && f(s[n]) {
		n++
	}
	return n
}

// numberLen is the length of the longest number at the start of s:
// 0[xX]hex, [+-]?[0-9]+, or [+-]?[0-9]*\.[0-9]+([eE][+-][0-9]+)? (the
// exponent needs its sign: 1.5e3 is 1.5 and the word e3).
func numberLen(s string) (n int, hex bool) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		if h := span(s[2:], isHexDigit); h > 0 {
			n, hex = 2+h, true
		}
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := span(s[i:], isDigit)
	if d > 0 && i+d > n {
		n, hex = i+d, false
	}
	j := i + d
	if j < len(s) && s[j] == '.' {
		if f := span(s[j+1:], isDigit); f > 0 {
			k := j + 1 + f
			if k+2 < len(s) && (s[k] == 'e' || s[k] == 'E') && (s[k+1] == '+' || s[k+1] == '-') {
				if e := span(s[k+2:], isDigit); e > 0 {
					k += 2 + e
				}
			}
			if k > n {
				n, hex = k, false
			}
		}
	}
	return n, hex
}

// parseNumber converts a number as collectd does (strtod): 010 is ten,
// not octal.
func parseNumber(text string, hex bool) float64 {
	if hex {
		var f float64
		for _, c := range []byte(text[2:]) {
			var v byte
			switch {
			case isDigit(c):
				v = c - '0'
			case c >= 'a':
				v = c - 'a' + 10
			default:
				v = c - 'A' + 10
			}
			f = f*16 + float64(v)
		}
		return f
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil { // only a range error: ±Inf as strtod gives
		return math.Copysign(math.Inf(1), f)
	}
	return f
}

// ipLen is the length of the IP address at the start of s, with an
// optional port, which collectd reads as a bare word: an IPv4 address
// (bytes 0-255 without leading zeros), optionally ":port" (1-65535), or
// an IPv6 address, optionally in brackets with ":port" after them.
func ipLen(s string) int {
	if n := ipv4Len(s); n > 0 {
		return n + portLen(s[n:])
	}
	if strings.HasPrefix(s, "[") {
		if n := ipv6Len(s[1:]); n > 0 && strings.HasPrefix(s[1+n:], "]") {
			return n + 2 + portLen(s[n+2:])
		}
		return 0
	}
	return ipv6Len(s)
}

func ipv4Len(s string) int {
	i := 0
	for part := 0; part < 4; part++ {
		d := span(s[i:], isDigit)
		if d == 0 {
			return 0
		}
		if part < 3 {
			if !validByte(s[i:i+d]) || i+d >= len(s) || s[i+d] != '.' {
				return 0
			}
			i += d + 1
			continue
		}
		for ; d > 0 && !validByte(s[i:i+d]); d-- {
		}
		return i + d
	}
	return 0
}

func validByte(s string) bool {
	if len(s) > 3 || len(s) > 1 && s[0] == '0' {
		return false
	}
	v, _ := strconv.Atoi(s)
	return v <= 255
}

// portLen is the length of ":port" at the start of s, the longest valid
// port, or 0.
func portLen(s string) int {
	if len(s) < 2 || s[0] != ':' || s[1] == '0' {
		return 0
	}
	d := min(span(s[1:], isDigit), 5)
	for ; d > 0; d-- {
		if v, _ := strconv.Atoi(s[1 : 1+d]); v <= 65535 {
			return 1 + d
		}
	}
	return 0
}

// ipv6Len is the length of the longest IPv6 address (no zone) at the start
// of s.
func ipv6Len(s string) int {
	run := span(s, func(c byte) bool { return isHexDigit(c) || c == ':' || c == '.' })
	for n := run; n >= 2; n-- {
		cand := s[:n]
		if !strings.Contains(cand, ":") {
			return 0
		}
		if a, err := netip.ParseAddr(cand); err == nil && a.Is6() {
			return n
		}
	}
	return 0
}
