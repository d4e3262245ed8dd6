package main

import (
	"errors"
	"fmt"
	"strings"
)

// expandEnv replaces ${VAR}, ${VAR:-default} and $VAR in a TOML text with
// the value lookup returns, and $$ with one $. Comments are left alone, so
// a commented-out sample line needs no variable. A variable that is not set
// (and has no default) is an error naming it and its line; a $ followed by
// anything else is kept as written.
//
// The value is inserted so that it stays the value: inside a basic string
// ("...") backslashes, quotes and control characters are escaped; inside a
// literal string ('...'), which has no escapes, a value holding a quote
// (or a newline, in a one-line literal) is an error; outside strings it is
// inserted as it is, so `interval = ${PERIOD}` or `x = $N` may give any
// TOML value.
func expandEnv(name string, text []byte, lookup func(string) (string, bool)) ([]byte, error) {
	const (
		bare = iota
		basic
		literal
		mlBasic
		mlLiteral
	)
	var out strings.Builder
	out.Grow(len(text))
	s := string(text)
	state := bare
	line := 1
	var errs []error
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			if state == basic || state == literal {
				state = bare // an unterminated string: TOML reports it
			}
		case state == bare && c == '#':
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				end = len(s) - i
			}
			out.WriteString(s[i : i+end])
			i += end
			continue
		case state == bare && strings.HasPrefix(s[i:], `"""`):
			state = mlBasic
			out.WriteString(`"""`)
			i += 3
			continue
		case state == bare && strings.HasPrefix(s[i:], `'''`):
			state = mlLiteral
			out.WriteString(`'''`)
			i += 3
			continue
		case state == bare && c == '"':
			state = basic
		case state == bare && c == '\'':
			state = literal
		case state == basic && c == '"', state == literal && c == '\'':
			state = bare
		case state == mlBasic && strings.HasPrefix(s[i:], `"""`), state == mlLiteral && strings.HasPrefix(s[i:], `'''`):
			// TOML allows up to two more quotes before the closing three.
			j := i + 3
			for j < len(s) && j < i+5 && s[j] == s[i] {
				j++
			}
			out.WriteString(s[i:j])
			i = j
			state = bare
			continue
		case (state == basic || state == mlBasic) && c == '\\':
			// An escape: the next byte is not a quote or a $ of ours.
			if i+1 < len(s) {
				if s[i+1] == '\n' {
					line++
				}
				out.WriteString(s[i : i+2])
				i += 2
				continue
			}
		case c == '$':
			if strings.HasPrefix(s[i:], "$$") {
				out.WriteByte('$')
				i += 2
				continue
			}
			v, n, err := expandOne(s[i:], lookup)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
				i += max(n, 1)
				continue
			}
			if n == 0 { // not a reference
				break
			}
			switch state {
			case basic, mlBasic:
				v = escapeBasic(v, state == mlBasic)
			case literal, mlLiteral:
				if strings.Contains(v, "'") || (state == literal && strings.ContainsAny(v, "\r\n")) {
					errs = append(errs, fmt.Errorf("%s:%d: the value of %s cannot be put in a '...' string (it holds a quote or a newline): use \"...\"", name, line, s[i:i+n]))
				}
			}
			out.WriteString(v)
			i += n
			continue
		}
		out.WriteByte(c)
		i++
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return []byte(out.String()), nil
}

// expandOne expands the reference at the start of s ("$NAME", "${NAME}",
// "${NAME:-default}"), returning the value and the bytes consumed; n is 0
// when s does not start with a reference.
func expandOne(s string, lookup func(string) (string, bool)) (v string, n int, err error) {
	if len(s) > 1 && s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 2, errors.New("${ without a closing }")
		}
		ref := s[2:end]
		varName, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(varName) {
			return "", end + 1, fmt.Errorf("${%s}: %q is not a variable name (write $$ for a literal $)", ref, varName)
		}
		if v, ok := lookup(varName); ok && (v != "" || !hasDef) {
			return v, end + 1, nil
		}
		if hasDef {
			return def, end + 1, nil
		}
		return "", end + 1, fmt.Errorf("environment variable %s is not set (set it, give a default with ${%s:-default}, or write $$ for a literal $)", varName, varName)
	}
	j := 1
	for j < len(s) && (s[j] == '_' || isAlpha(s[j]) || (j > 1 && isDigit(s[j]))) {
		j++
	}
	if j == 1 {
		return "", 0, nil
	}
	varName := s[1:j]
	v, ok := lookup(varName)
	if !ok {
		return "", j, fmt.Errorf("environment variable %s is not set (set it, give a default with ${%s:-default}, or write $$ for a literal $)", varName, varName)
	}
	return v, j, nil
}

func validVarName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '_' && !isAlpha(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// escapeBasic escapes v for a TOML basic string; multiLine keeps newlines.
func escapeBasic(v string, multiLine bool) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n' && multiLine:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
