package protocol

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestParseFloatBytesMatchesStrconv compares the fast path with strconv on
// random short decimals, where it must agree bit for bit, and on errors.
func TestParseFloatBytesMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789.-e+x"
	for range 20000 {
		var b []byte
		for range 1 + r.IntN(18) {
			if r.IntN(8) == 0 {
				b = append(b, alphabet[r.IntN(len(alphabet))])
			} else {
				b = append(b, byte('0'+r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			b = append(b[:r.IntN(len(b)+1)], append([]byte{'.'}, b[len(b)/2:]...)...)
		}
		want, werr := strconv.ParseFloat(string(b), 64)
		got, gerr := parseFloatBytes(b)
		if werr != nil {
			assert.Error(t, gerr, "%q", b)
			continue
		}
		if assert.NoError(t, gerr, "%q", b) {
			assert.Equal(t, math.Float64bits(want), math.Float64bits(got), "%q", b)
		}
	}
}
