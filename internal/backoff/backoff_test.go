package backoff

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBaseDoublesToTheCap(t *testing.T) {
	e := Exponential{Min: 100 * time.Millisecond, Max: time.Second}
	var got []time.Duration
	for attempt := -1; attempt < 7; attempt++ {
		got = append(got, e.Base(attempt))
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{100 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}, got)
}

func TestDelayStaysInItsBounds(t *testing.T) {
	tests := []struct {
		name   string
		e      Exponential
		lo, hi func(base time.Duration) time.Duration // bounds for a base delay
	}{
		{"no jitter", Exponential{Min: time.Millisecond, Max: time.Second},
			func(b time.Duration) time.Duration { return b }, func(b time.Duration) time.Duration { return b }},
		{"20% jitter", Exponential{Min: 40 * time.Millisecond, Max: 320 * time.Millisecond, Jitter: 0.2},
			func(b time.Duration) time.Duration { return b * 8 / 10 }, func(b time.Duration) time.Duration { return min(b*12/10, 320*time.Millisecond) }},
		{"half jitter, defaults of forward", Exponential{Min: 100 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5},
			func(b time.Duration) time.Duration { return b / 2 }, func(b time.Duration) time.Duration { return min(b*3/2, 30*time.Second) }},
		// Min<<29 overflows int64 nanoseconds for Min >= ~17s.
		{"20s to 5m", Exponential{Min: 20 * time.Second, Max: 5 * time.Minute, Jitter: 0.5},
			func(b time.Duration) time.Duration { return b / 2 }, func(time.Duration) time.Duration { return 5 * time.Minute }},
		{"1h to the largest Duration", Exponential{Min: time.Hour, Max: math.MaxInt64, Jitter: 1},
			func(time.Duration) time.Duration { return 0 }, func(time.Duration) time.Duration { return math.MaxInt64 }},
		{"1ns to 1ns", Exponential{Min: 1, Max: 1, Jitter: 0.5},
			func(time.Duration) time.Duration { return 0 }, func(time.Duration) time.Duration { return 1 }},
		{"Min above Max", Exponential{Min: time.Minute, Max: time.Second, Jitter: 0.1},
			func(time.Duration) time.Duration { return 900 * time.Millisecond }, func(time.Duration) time.Duration { return time.Second }},
		{"jitter above 1 is 1", Exponential{Min: time.Second, Max: time.Hour, Jitter: 7},
			func(time.Duration) time.Duration { return 0 }, func(b time.Duration) time.Duration { return 2 * b }},
		{"negative jitter is none", Exponential{Min: time.Second, Max: time.Hour, Jitter: -1},
			func(b time.Duration) time.Duration { return b }, func(b time.Duration) time.Duration { return b }},
		{"negative bounds are 0", Exponential{Min: -time.Second, Max: -time.Second, Jitter: 0.5},
			func(time.Duration) time.Duration { return 0 }, func(time.Duration) time.Duration { return 0 }},
		{"zero value", Exponential{},
			func(time.Duration) time.Duration { return 0 }, func(time.Duration) time.Duration { return 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for attempt := range 70 {
				base := tt.e.Base(attempt)
				require.GreaterOrEqual(t, base, time.Duration(0), "attempt %d", attempt)
				for range 50 {
					var d time.Duration
					require.NotPanics(t, func() { d = tt.e.Delay(attempt) }, "attempt %d", attempt)
					assert.GreaterOrEqual(t, d, tt.lo(base), "attempt %d, base %v", attempt, base)
					assert.LessOrEqual(t, d, tt.hi(base), "attempt %d, base %v", attempt, base)
					assert.LessOrEqual(t, d, max(tt.e.Max, 0), "attempt %d: above Max", attempt)
				}
				if attempt >= 63 {
					assert.Equal(t, max(tt.e.Max, 0), base, "attempt %d: the delay has reached Max", attempt)
				}
			}
		})
	}
}

// TestDelayIsSpread checks that jitter spreads delays over their range
// rather than bunching them, so clients that failed together part ways.
func TestDelayIsSpread(t *testing.T) {
	e := Exponential{Min: time.Second, Max: time.Hour, Jitter: 0.5}
	const n = 4000
	var below, above int
	for range n {
		switch d := e.Delay(3); {
		case d < 7*time.Second:
			below++
		case d > 9*time.Second:
			above++
		}
	}
	// Uniform over [4s, 12s]: 3/8 of the draws fall each side of [7s, 9s].
	assert.InDelta(t, 0.375, float64(below)/n, 0.05)
	assert.InDelta(t, 0.375, float64(above)/n, 0.05)
}

func BenchmarkDelay(b *testing.B) {
	b.ReportAllocs()
	e := Exponential{Min: 100 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5}
	var sum time.Duration
	for i := range b.N {
		sum += e.Delay(i % 16)
	}
	_ = sum
}

func ExampleExponential_Base() {
	e := Exponential{Min: time.Second, Max: time.Minute, Jitter: 0.2}
	for attempt := range 8 {
		fmt.Print(e.Base(attempt), " ")
	}
	fmt.Println()
	// Output: 1s 2s 4s 8s 16s 32s 1m0s 1m0s
}
