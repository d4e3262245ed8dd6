package point

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

// Kind is the type of a field [Value]. The zero Kind, KindInvalid, is the
// kind of the zero Value, which stands for "no value".
type Kind uint8

// The kinds a field value can have.
const (
	KindInvalid Kind = iota // zero Value: no value (a JSON null)
	KindInt                 // int64
	KindUint                // uint64
	KindFloat               // float64
	KindString              // UTF-8 text
	KindBool                // bool
	KindBytes               // arbitrary bytes
)

var kindNames = [...]string{"invalid", "int", "uint", "float", "string", "bool", "bytes"}

// String returns the kind's lower-case name, for example "int".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) {
	if int(k) >= len(kindNames) {
		return nil, fmt.Errorf("point: unknown kind %d", k)
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names
// String returns.
func (k *Kind) UnmarshalText(text []byte) error {
	for i, n := range kindNames {
		if n == string(text) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("point: unknown kind %q", text)
}

// Value is a typed field value: a small tagged union like slog.Value. The
// zero Value has KindInvalid and means "no value". Values are comparable
// with [Value.Equal]; use the typed accessors to read them. An accessor
// called on a Value of another kind panics, as slog's do.
type Value struct {
	num  uint64
	str  string
	kind Kind
}

// IntValue returns a Value of KindInt.
func IntValue(v int64) Value { return Value{num: uint64(v), kind: KindInt} }

// UintValue returns a Value of KindUint.
func UintValue(v uint64) Value { return Value{num: v, kind: KindUint} }

// FloatValue returns a Value of KindFloat. NaN and infinities are kept as
// they are; package constraint decides what happens to them.
func FloatValue(v float64) Value { return Value{num: math.Float64bits(v), kind: KindFloat} }

// StringValue returns a Value of KindString holding s.
func StringValue(s string) Value { return Value{str: s, kind: KindString} }

// BoolValue returns a Value of KindBool.
func BoolValue(v bool) Value {
	var n uint64
	if v {
		n = 1
	}
	return Value{num: n, kind: KindBool}
}

// BytesValue returns a Value of KindBytes. It does not copy b: the Value
// aliases b, which must not be modified while the Value is in use.
func BytesValue(b []byte) Value {
	return Value{str: unsafe.String(unsafe.SliceData(b), len(b)), kind: KindBytes}
}

// AnyValue converts a Go value to a Value: signed integers become KindInt,
// unsigned integers KindUint, float32/float64 KindFloat, string KindString,
// []byte KindBytes, bool KindBool, and a Value is returned as it is. Any
// other type, nil included, gives the zero Value and false.
func AnyValue(v any) (Value, bool) {
	switch x := v.(type) {
	case Value:
		return x, true
	case int:
		return IntValue(int64(x)), true
	case int8:
		return IntValue(int64(x)), true
	case int16:
		return IntValue(int64(x)), true
	case int32:
		return IntValue(int64(x)), true
	case int64:
		return IntValue(x), true
	case uint:
		return UintValue(uint64(x)), true
	case uint8:
		return UintValue(uint64(x)), true
	case uint16:
		return UintValue(uint64(x)), true
	case uint32:
		return UintValue(uint64(x)), true
	case uint64:
		return UintValue(x), true
	case float32:
		return FloatValue(float64(x)), true
	case float64:
		return FloatValue(x), true
	case string:
		return StringValue(x), true
	case []byte:
		return BytesValue(x), true
	case bool:
		return BoolValue(x), true
	}
	return Value{}, false
}

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

// IsValid reports whether v holds a value (its kind is not KindInvalid).
func (v Value) IsValid() bool { return v.kind != KindInvalid }

// Int returns v's int64. It panics if v is not of KindInt.
func (v Value) Int() int64 {
	v.must(KindInt)
	return int64(v.num)
}

// Uint returns v's uint64. It panics if v is not of KindUint.
func (v Value) Uint() uint64 {
	v.must(KindUint)
	return v.num
}

// Float returns v's float64. It panics if v is not of KindFloat.
func (v Value) Float() float64 {
	v.must(KindFloat)
	return math.Float64frombits(v.num)
}

// Bool returns v's bool. It panics if v is not of KindBool.
func (v Value) Bool() bool {
	v.must(KindBool)
	return v.num != 0
}

// Str returns the text of a KindString or the content of a KindBytes Value
// without copying. It panics for other kinds.
func (v Value) Str() string {
	if v.kind != KindString && v.kind != KindBytes {
		panic("point: Value.Str called on a " + v.kind.String() + " value")
	}
	return v.str
}

// Bytes returns a copy of the content of a KindBytes or KindString Value.
// It panics for other kinds.
func (v Value) Bytes() []byte { return []byte(v.Str()) }

// Len returns the length in bytes of a string or bytes Value and 0 for
// other kinds.
func (v Value) Len() int {
	if v.kind == KindString || v.kind == KindBytes {
		return len(v.str)
	}
	return 0
}

// Any returns v as a Go value: int64, uint64, float64, string, bool, []byte
// (a copy), or nil for the zero Value.
func (v Value) Any() any {
	switch v.kind {
	case KindInt:
		return int64(v.num)
	case KindUint:
		return v.num
	case KindFloat:
		return math.Float64frombits(v.num)
	case KindString:
		return v.str
	case KindBool:
		return v.num != 0
	case KindBytes:
		return []byte(v.str)
	}
	return nil
}

// Equal reports whether v and w have the same kind and value. Floats are
// compared by their bits, so NaN equals NaN and 0 differs from -0.
func (v Value) Equal(w Value) bool {
	return v.kind == w.kind && v.num == w.num && v.str == w.str
}

// String formats v for people: numbers in decimal, strings as they are,
// bytes in Go's %q form, the zero Value as "<nil>". It never panics.
func (v Value) String() string {
	switch v.kind {
	case KindInt:
		return strconv.FormatInt(int64(v.num), 10)
	case KindUint:
		return strconv.FormatUint(v.num, 10)
	case KindFloat:
		return strconv.FormatFloat(math.Float64frombits(v.num), 'g', -1, 64)
	case KindString:
		return v.str
	case KindBool:
		return strconv.FormatBool(v.num != 0)
	case KindBytes:
		return strconv.Quote(v.str)
	}
	return "<nil>"
}

// clone returns v with its string content copied, so it no longer aliases
// any buffer.
func (v Value) clone() Value {
	if v.str != "" {
		v.str = string(append([]byte(nil), v.str...))
	}
	return v
}

func (v Value) must(k Kind) {
	if v.kind != k {
		panic("point: Value." + kindAccessor[k] + " called on a " + v.kind.String() + " value")
	}
}

var kindAccessor = [...]string{"", "Int", "Uint", "Float", "Str", "Bool", "Bytes"}
