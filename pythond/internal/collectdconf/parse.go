package collectdconf

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Node is one option (Key and Values, no Children) or block (<Key
// Values...> with Children) of collectd.conf. Values hold string, float64
// and bool: a quoted string or bare word is a string, a number a float64
// (collectd gives floats always: 42 is 42.0), an unquoted true, yes, on,
// false, no or off a bool.
type Node struct {
	Key      string
	Values   []any
	Children []*Node
	// Block is true for <Key ...> ... </Key>.
	Block bool
	// File and Line are where the option or block starts.
	File string
	Line int
}

// MarshalJSON writes n as {"key", "values", "children"} (both lists
// always present), the shape the collectd runner reads.
func (n *Node) MarshalJSON() ([]byte, error) {
	type node struct {
		Key      string  `json:"key"`
		Values   []any   `json:"values"`
		Children []*Node `json:"children"`
	}
	v := node{Key: n.Key, Values: n.Values, Children: n.Children}
	if v.Values == nil {
		v.Values = []any{}
	}
	if v.Children == nil {
		v.Children = []*Node{}
	}
	return json.Marshal(v)
}

// String writes n back in collectd.conf syntax, on one line for an
// option and with its children indented for a block.
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b, "")
	return strings.TrimSuffix(b.String(), "\n")
}

func (n *Node) write(b *strings.Builder, indent string) {
	b.WriteString(indent)
	if n.Block {
		b.WriteByte('<')
	}
	b.WriteString(n.Key)
	for _, v := range n.Values {
		b.WriteByte(' ')
		switch v := v.(type) {
		case string:
			b.WriteByte('"')
			b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v))
			b.WriteByte('"')
		case float64:
			b.WriteString(formatNumber(v))
		default:
			fmt.Fprint(b, v)
		}
	}
	if !n.Block {
		b.WriteByte('\n')
		return
	}
	b.WriteString(">\n")
	for _, c := range n.Children {
		c.write(b, indent+"  ")
	}
	fmt.Fprintf(b, "%s</%s>\n", indent, n.Key)
}

// parse reads one file's text into its top-level nodes. The grammar, as
// collectd 5.12 reads it: a line is empty, an option (a bare word, then
// one or more values), a block start (<, a bare word, zero or more values,
// >) or a block end (<, /, the block's word exactly as opened, >); each
// ends its line. A block with no values and no children is dropped, as
// collectd drops it.
func parse(src, file string) ([]*Node, error) {
	p := &parser{lex: newLexer(src), file: file}
	p.advance()
	nodes, err := p.list(nil)
	if err != nil {
		return nil, err
	}
	return nodes, nil
}

type parser struct {
	lex  *lexer
	file string
	tok  token
}

func (p *parser) advance() { p.tok = p.lex.next() }

func (p *parser) errorf(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Err: fmt.Errorf("%w: "+format, append([]any{ErrSyntax}, args...)...)}
}

// unexpected describes the current token where want was expected.
func (p *parser) unexpected(want string) error {
	found := p.tok.kind.String()
	if p.tok.kind == tokWord || p.tok.kind == tokNumber || p.tok.kind == tokBool {
		found += " (" + p.tok.text + ")"
	}
	if p.tok.kind == tokSlash {
		found += " (a '/' outside quotes: quote values such as paths)"
	}
	return p.errorf(p.tok.line, "expected %s, found %s", want, found)
}

// list reads nodes until the end of the file or, inside open, its end tag.
func (p *parser) list(open *Node) ([]*Node, error) {
	var nodes []*Node
	for {
		switch p.tok.kind {
		case tokEOL:
			p.advance()
			continue
		case tokEOF:
			if open != nil {
				return nil, p.errorf(open.Line, "block <%s> is not closed (expected </%s> before the end of the file)", open.Key, open.Key)
			}
			return nodes, nil
		case tokWord:
			n := &Node{Key: p.tok.text, File: p.file, Line: p.tok.line}
			p.advance()
			if err := p.values(n); err != nil {
				return nil, err
			}
			if err := p.eol(); err != nil {
				return nil, err
			}
			if len(n.Values) == 0 {
				return nil, p.errorf(n.Line, "option %s has no value (expected at least one value after it)", n.Key)
			}
			nodes = append(nodes, n)
		case tokOpen:
			line := p.tok.line
			p.advance()
			if p.tok.kind == tokSlash {
				p.advance()
				if p.tok.kind != tokWord {
					return nil, p.unexpected("the name of the block to close")
				}
				name := p.tok.text
				if open == nil {
					return nil, p.errorf(line, "</%s> closes no open block", name)
				}
				if name != open.Key {
					return nil, p.errorf(line, "</%s> does not close block <%s> opened on line %d (expected </%s>; the name is case-sensitive)", name, open.Key, open.Line, open.Key)
				}
				p.advance()
				if p.tok.kind != tokClose {
					return nil, p.unexpected("'>' to end </" + name)
				}
				p.advance()
				if err := p.eol(); err != nil {
					return nil, err
				}
				return nodes, nil
			}
			if p.tok.kind != tokWord {
				return nil, p.unexpected("a block name (a bare word) after '<'")
			}
			n := &Node{Key: p.tok.text, Block: true, File: p.file, Line: line}
			p.advance()
			if err := p.values(n); err != nil {
				return nil, err
			}
			if p.tok.kind != tokClose {
				return nil, p.unexpected("a value or '>' to end <" + n.Key)
			}
			p.advance()
			if err := p.eol(); err != nil {
				return nil, err
			}
			children, err := p.list(n)
			if err != nil {
				return nil, err
			}
			n.Children = children
			if len(n.Values) > 0 || len(n.Children) > 0 {
				nodes = append(nodes, n)
			}
		default:
			return nil, p.unexpected("an option name (a bare word), a block or the end of the line")
		}
	}
}

// values reads the values that follow a key.
func (p *parser) values(n *Node) error {
	for {
		switch p.tok.kind {
		case tokString, tokWord:
			n.Values = append(n.Values, p.tok.text)
		case tokNumber:
			n.Values = append(n.Values, p.tok.num)
		case tokBool:
			n.Values = append(n.Values, p.tok.b)
		default:
			return nil
		}
		p.advance()
	}
}

// eol consumes the end of a line (or of the file).
func (p *parser) eol() error {
	switch p.tok.kind {
	case tokEOL:
		p.advance()
		return nil
	case tokEOF:
		return nil
	}
	if p.tok.kind == tokSlash {
		return p.unexpected("a value or the end of the line")
	}
	return p.unexpected("the end of the line")
}

// formatNumber writes f so that the lexer reads it back as f: digits,
// never an exponent (which collectd's syntax reads differently).
func formatNumber(f float64) string {
	if math.IsInf(f, 0) {
		s := "1" + strings.Repeat("0", 309)
		if f < 0 {
			s = "-" + s
		}
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
