package protocol

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Precision is the unit of the timestamps in a body. The zero Precision,
// PrecisionAuto, detects the unit from the magnitude of each timestamp the
// way DataKit does.
type Precision uint8

// Precisions. Minute and Hour are DataKit extensions to line protocol.
const (
	// PrecisionAuto detects the unit of each timestamp by its magnitude,
	// like DataKit: below 1e10 seconds, below 1e13 milliseconds, below 1e16
	// microseconds, anything larger nanoseconds.
	PrecisionAuto Precision = iota
	Nanosecond
	Microsecond
	Millisecond
	Second
	Minute
	Hour
)

// ErrUnknownPrecision is matched (with errors.Is) by the error ParsePrecision
// returns for a name it does not know.
var ErrUnknownPrecision = errors.New("protocol: unknown precision")

var precisionNames = [...]string{"auto", "ns", "us", "ms", "s", "m", "h"}

var precisionUnits = [...]time.Duration{0, time.Nanosecond, time.Microsecond, time.Millisecond, time.Second, time.Minute, time.Hour}

// ParsePrecision parses a precision as DataKit's and InfluxDB's "precision"
// query parameter spells it: "n" or "ns", "u", "us", "µ" or "µs", "ms", "s",
// "m", "h". The empty string means PrecisionAuto, and so does "auto" (the
// String form of PrecisionAuto). Anything else is an error matching
// ErrUnknownPrecision that quotes the value.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "auto":
		return PrecisionAuto, nil
	case "n", "ns":
		return Nanosecond, nil
	case "u", "us", "µ", "µs", "μ", "μs":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return PrecisionAuto, fmt.Errorf("%w %q (want one of n, ns, u, us, ms, s, m, h, or empty for auto-detection)", ErrUnknownPrecision, s)
}

// String returns the precision's short name: "auto", "ns", "us", "ms",
// "s", "m" or "h". ParsePrecision accepts every one of them.
func (p Precision) String() string {
	if int(p) < len(precisionNames) {
		return precisionNames[p]
	}
	return "Precision(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText implements encoding.TextMarshaler with the String form.
func (p Precision) MarshalText() ([]byte, error) {
	if int(p) >= len(precisionNames) {
		return nil, fmt.Errorf("protocol: cannot marshal invalid precision %d", p)
	}
	return []byte(precisionNames[p]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParsePrecision.
func (p *Precision) UnmarshalText(text []byte) error {
	v, err := ParsePrecision(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Duration returns the length of one unit of p, for example time.Millisecond
// for Millisecond. It returns 0 for PrecisionAuto and for invalid values.
func (p Precision) Duration() time.Duration {
	if int(p) < len(precisionUnits) {
		return precisionUnits[p]
	}
	return 0
}
