package protocol

import "github.com/collectkit/collectkit/point"

// LineEncoder appends points as canonical line protocol. The zero value is
// ready to use and writes nanosecond timestamps. It is not safe for
// concurrent use.
type LineEncoder struct {
	// Precision is the unit of the written timestamps; zero
	// (PrecisionAuto) and Nanosecond both mean nanoseconds.
	Precision Precision
}

// Append appends one line for p, terminated by '\n', to dst.
func (e *LineEncoder) Append(dst []byte, p point.Point) ([]byte, error) {
	return dst, nil
}

// JSONEncoder appends points as a DataKit JSON body. The zero value is ready
// to use and writes nanosecond timestamps.
type JSONEncoder struct {
	// Precision is the unit of the written timestamps; zero and Nanosecond
	// both mean nanoseconds.
	Precision Precision
}

// Append appends pts as one JSON array to dst.
func (e *JSONEncoder) Append(dst []byte, pts []point.Point) ([]byte, error) {
	return dst, nil
}
