package protocol

import "errors"

// Causes carried by DecodeError.Err and EncodeError.Err. Match them with
// errors.Is; the text around them is not API.
var (
	// ErrSyntax: the body is not well-formed line protocol or JSON.
	ErrSyntax = errors.New("syntax error")
	// ErrNotArray: a JSON body whose top level is not an array.
	ErrNotArray = errors.New("JSON body is not an array of points")
	// ErrInvalidName: a missing, empty or unencodable measurement name.
	ErrInvalidName = errors.New("invalid measurement name")
	// ErrInvalidKey: an empty or unencodable tag or field key.
	ErrInvalidKey = errors.New("invalid key")
	// ErrTagType: a JSON tag value that is not a string.
	ErrTagType = errors.New("tag value is not a string")
	// ErrFieldType: a field value of a type that cannot be a field (a JSON
	// array or object, or a Value of KindInvalid when encoding).
	ErrFieldType = errors.New("invalid field value type")
	// ErrNoFields: a point without any field.
	ErrNoFields = errors.New("point has no fields")
	// ErrTimeRange: a timestamp outside what an int64 count of nanoseconds
	// since 1970 can hold (about the years 1678 to 2262), or not a number.
	ErrTimeRange = errors.New("timestamp out of range")
	// ErrNonFinite: a NaN or infinite float, which neither line protocol nor
	// strict JSON can carry.
	ErrNonFinite = errors.New("NaN or infinite float value")
	// ErrInvalidUTF8: a string that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrTooManyPoints: a body with more lines or elements than
	// Options.MaxPoints. Decoding stops there; no points are returned.
	ErrTooManyPoints = errors.New("too many points in one body")
)
