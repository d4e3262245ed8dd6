package netdataconf

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// A configuration value as Python's YAML loader (PyYAML SafeLoader, YAML 1.1)
// would give it, ready for JSON. It is one of:
//
//   - nil (YAML null),
//   - bool,
//   - [Number] (int or float, kept as written after YAML 1.1 resolution),
//   - string,
//   - [Map] (mapping, in file order),
//   - []any (sequence).
type Value = any

// Number is a resolved YAML number in its JSON spelling: an integer in
// decimal, or a float with a "." or an exponent so that Python reads a float.
// Infinities are 1e999 and -1e999, which Python's json module reads as
// float('inf'); NaN, which JSON cannot spell, stays the string ".nan".
type Number string

// Int returns the number as an int64 when it is an integer that fits.
func (n Number) Int() (int64, bool) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}

// MarshalJSON writes the number as is.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// Entry is one key and its value in a [Map].
type Entry struct {
	Key   string
	Value Value
	// Line is where the key is written (1-based; 0 when unknown).
	Line int
}

// Map is a YAML mapping with its keys in file order, as python.d.plugin keeps
// them (it loads mappings into OrderedDict). A key written twice keeps its
// first position and its last value.
type Map []Entry

// Get returns the value of key and whether it is present.
func (m Map) Get(key string) (Value, bool) {
	if i := m.index(key); i >= 0 {
		return m[i].Value, true
	}
	return nil, false
}

func (m Map) index(key string) int {
	for i := range m {
		if m[i].Key == key {
			return i
		}
	}
	return -1
}

// set replaces the value of key in place or appends it.
func (m *Map) set(e Entry) {
	if i := m.index(e.Key); i >= 0 {
		(*m)[i].Value = e.Value
		return
	}
	*m = append(*m, e)
}

// without returns a copy of m without key.
func (m Map) without(key string) Map {
	out := make(Map, 0, len(m))
	for _, e := range m {
		if e.Key != key {
			out = append(out, e)
		}
	}
	return out
}

// MarshalJSON writes the mapping as a JSON object in key order.
func (m Map) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.Key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
