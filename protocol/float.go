package protocol

import (
	"strconv"
	"unsafe"
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseFloatBytes parses a decimal float like strconv.ParseFloat(s, 64), whose
// result and errors it returns, with a fast path for the common short
// plain decimals ("46.45", "-3", ".5"): with at most 15 digits both the
// digits and the power of ten are exact float64 values, so one division
// rounds correctly.
func parseFloatBytes(b []byte) (float64, error) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i++
	}
	var mant uint64
	digits, frac := 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			digits = 99 // anything else: leave it to strconv
		}
		if digits > 15 {
			return strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
		}
	}
	if digits == 0 {
		return strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	}
	f := float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, nil
}
