package protocol_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// TestRoundTripProperty: for random points, decode(encode(p)) equals p
// after sorting (see canonical), in both formats, or the encoder refused p
// for a documented reason.
func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d protocol.Decoder
	const n = 3000
	lpOK, jsonOK := 0, 0
	for i := range n {
		p := randomPoint(r)
		l, j := assertRoundTrip(t, &d, p, "random point "+p.String())
		if t.Failed() {
			t.Fatalf("failed at iteration %d", i)
		}
		if l {
			lpOK++
		}
		if j {
			jsonOK++
		}
	}
	// The property is only worth something if most points get through.
	t.Logf("round-tripped %d of %d points through line protocol, %d through JSON", lpOK, n, jsonOK)
	assert.Greater(t, lpOK, n/3)
	assert.Greater(t, jsonOK, n/2)
}

// pieces random strings are built from: the characters each format has to
// escape, non-ASCII, and (rarely) what no format can carry.
var (
	pieces = []string{"a", "b", "z", "host", "cpu", " ", ",", "=", `"`, `\`, "#", ".", "é", "中", "😀", "0", "-", "{", "}", "[", ":", "\u2028"}
	rare   = []string{"\n", "\r", "\t", "\x00", "\x7f"}
)

func randomString(r *rand.Rand, allowEmpty bool) string {
	n := r.IntN(6)
	if !allowEmpty && n == 0 {
		n = 1
	}
	var b strings.Builder
	for range n {
		if r.IntN(40) == 0 {
			b.WriteString(rare[r.IntN(len(rare))])
		} else {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
	}
	if r.IntN(200) == 0 {
		b.WriteString("\xff") // invalid UTF-8: both encoders must refuse
	}
	return b.String()
}

func randomValue(r *rand.Rand) point.Value {
	switch r.IntN(9) {
	case 0:
		return point.IntValue(int64(r.Uint64()))
	case 1:
		return point.IntValue(int64(r.IntN(2000) - 1000))
	case 2:
		return point.UintValue(r.Uint64())
	case 3:
		return point.FloatValue(math.Float64frombits(r.Uint64())) // any bits: NaN and Inf included
	case 4:
		return point.FloatValue([]float64{0, math.Copysign(0, -1), 1, 3, -2.5, 1e21, 1e-7, 123456.789, math.MaxFloat64, math.SmallestNonzeroFloat64}[r.IntN(10)])
	case 5:
		return point.StringValue(randomString(r, true))
	case 6:
		return point.BytesValue([]byte(randomString(r, true)))
	case 7:
		return point.BoolValue(r.IntN(2) == 0)
	}
	return point.FloatValue(r.NormFloat64() * 1000)
}

func randomPoint(r *rand.Rand) point.Point {
	p := point.Point{Name: randomString(r, r.IntN(50) == 0)}
	for range r.IntN(5) {
		p.Tags = append(p.Tags, point.Tag{Key: randomString(r, r.IntN(50) == 0), Value: randomString(r, true)})
	}
	nf := r.IntN(5)
	if r.IntN(30) != 0 && nf == 0 {
		nf = 1
	}
	for range nf {
		p.Fields = append(p.Fields, point.Field{Key: randomString(r, r.IntN(50) == 0), Value: randomValue(r)})
	}
	switch r.IntN(4) {
	case 0: // no time
	case 1:
		p.Time = time.Unix(0, int64(r.Uint64()))
	default:
		p.Time = time.Unix(1700000000+r.Int64N(1e8), r.Int64N(1e9))
	}
	return p
}
