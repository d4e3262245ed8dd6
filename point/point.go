package point

import (
	"strings"
	"time"
)

// Tag is a key and its string value.
type Tag struct {
	Key   string
	Value string
}

// Field is a key and its typed value.
type Field struct {
	Key   string
	Value Value
}

// Point is one measurement at one time: a name, string tags, typed fields
// and a timestamp. The zero Point is valid (and empty). A Point has no hidden
// state: its fields are the whole of it.
//
// Tags and Fields keep the order they were given in; package constraint
// decides what duplicate or conflicting keys mean. Points produced by a
// decoder may alias the decoder's input (see package protocol); [Point.Clone]
// makes a copy that aliases nothing.
type Point struct {
	Name   string
	Tags   []Tag
	Fields []Field
	Time   time.Time
}

// New returns a Point with the given name and time and no tags or fields.
func New(name string, t time.Time) Point { return Point{Name: name, Time: t} }

// AddTag appends a tag and returns p, for chaining.
func (p *Point) AddTag(key, value string) *Point {
	p.Tags = append(p.Tags, Tag{Key: key, Value: value})
	return p
}

// AddField appends a field and returns p, for chaining.
func (p *Point) AddField(key string, v Value) *Point {
	p.Fields = append(p.Fields, Field{Key: key, Value: v})
	return p
}

// Tag returns the value of the first tag with the given key.
func (p *Point) Tag(key string) (string, bool) {
	for _, t := range p.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Field returns the value of the first field with the given key.
func (p *Point) Field(key string) (Value, bool) {
	for _, f := range p.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return Value{}, false
}

// Clone returns a deep copy of p: new tag and field slices and copies of
// every string, so the result aliases no buffer p may point into.
func (p Point) Clone() Point {
	q := Point{Name: strings.Clone(p.Name), Time: p.Time}
	if p.Tags != nil {
		q.Tags = make([]Tag, len(p.Tags))
		for i, t := range p.Tags {
			q.Tags[i] = Tag{Key: strings.Clone(t.Key), Value: strings.Clone(t.Value)}
		}
	}
	if p.Fields != nil {
		q.Fields = make([]Field, len(p.Fields))
		for i, f := range p.Fields {
			q.Fields[i] = Field{Key: strings.Clone(f.Key), Value: f.Value.clone()}
		}
	}
	return q
}

// Equal reports whether p and q have the same name, the same tags and fields
// in the same order, and the same instant.
func (p Point) Equal(q Point) bool {
	if p.Name != q.Name || !p.Time.Equal(q.Time) || len(p.Tags) != len(q.Tags) || len(p.Fields) != len(q.Fields) {
		return false
	}
	for i := range p.Tags {
		if p.Tags[i] != q.Tags[i] {
			return false
		}
	}
	for i := range p.Fields {
		if p.Fields[i].Key != q.Fields[i].Key || !p.Fields[i].Value.Equal(q.Fields[i].Value) {
			return false
		}
	}
	return true
}

// String formats p for people and logs, in a line-protocol-like form. It is
// not an encoding: use package protocol for that.
func (p Point) String() string {
	var b strings.Builder
	b.WriteString(p.Name)
	for _, t := range p.Tags {
		b.WriteByte(',')
		b.WriteString(t.Key)
		b.WriteByte('=')
		b.WriteString(t.Value)
	}
	for i, f := range p.Fields {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		if f.Value.Kind() == KindString {
			b.WriteByte('"')
			b.WriteString(f.Value.Str())
			b.WriteByte('"')
		} else {
			b.WriteString(f.Value.String())
		}
	}
	if !p.Time.IsZero() {
		b.WriteByte(' ')
		b.WriteString(p.Time.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}
