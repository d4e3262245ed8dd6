package protocol

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/collectkit/collectkit/point"
)

// appendFloat formats x like encoding/json (plain decimals between 1e-6 and
// 1e21, exponent form outside), which line protocol reads back as a float.
func appendFloat(dst []byte, x float64) []byte {
	a := math.Abs(x)
	if a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(dst, x, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, x, 'f', -1, 64)
}

// orderScratch sorts tag and field indexes by key without allocating once
// warmed up.
type orderScratch struct {
	idx []int
}

func (o *orderScratch) identity(n int) []int {
	o.idx = o.idx[:0]
	for i := range n {
		o.idx = append(o.idx, i)
	}
	return o.idx
}

func (o *orderScratch) tags(ts []point.Tag) []int {
	idx := o.identity(len(ts))
	if !slices.IsSortedFunc(ts, func(a, b point.Tag) int { return strings.Compare(a.Key, b.Key) }) {
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(ts[a].Key, ts[b].Key) })
	}
	return idx
}

func (o *orderScratch) fields(fs []point.Field) []int {
	idx := o.identity(len(fs))
	if !slices.IsSortedFunc(fs, func(a, b point.Field) int { return strings.Compare(a.Key, b.Key) }) {
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(fs[a].Key, fs[b].Key) })
	}
	return idx
}
