package protocol_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/collectkit/collectkit/protocol"
)

func TestPrecisionTime(t *testing.T) {
	tests := []struct {
		name string
		p    protocol.Precision
		ts   int64
		want time.Time
		ok   bool
	}{
		{"auto seconds", protocol.PrecisionAuto, 1700000000, time.Unix(1700000000, 0), true},
		{"auto milliseconds", protocol.PrecisionAuto, 1700000000123, time.Unix(1700000000, 123e6), true},
		{"auto microseconds", protocol.PrecisionAuto, 1700000000123456, time.Unix(1700000000, 123456e3), true},
		{"auto nanoseconds", protocol.PrecisionAuto, 1700000000123456789, time.Unix(1700000000, 123456789), true},
		{"auto negative seconds", protocol.PrecisionAuto, -5, time.Unix(-5, 0), true},
		{"minutes", protocol.Minute, 2, time.Unix(120, 0), true},
		{"hours overflow", protocol.Hour, math.MaxInt64 / 3600, time.Time{}, false},
		{"seconds overflow", protocol.Second, 1 << 62, time.Time{}, false},
		{"invalid precision", protocol.Precision(200), 1, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.p.Time(tt.ts)
			assert.Equal(t, tt.ok, ok)
			assert.True(t, tt.want.Equal(got), "got %v, want %v", got, tt.want)
		})
	}
}

func TestPrecisionFloatTime(t *testing.T) {
	got, ok := protocol.PrecisionAuto.FloatTime(1700000000.25)
	assert.True(t, ok)
	// float64 carries ~256 ns of resolution at this magnitude.
	assert.WithinDuration(t, time.Unix(1700000000, 250e6), got, time.Microsecond)
	got, ok = protocol.Millisecond.FloatTime(1.5)
	assert.True(t, ok)
	assert.True(t, time.Unix(0, 1500000).Equal(got), "got %v", got)
	for _, bad := range []float64{math.NaN(), math.Inf(1), 1e300} {
		_, ok := protocol.Second.FloatTime(bad)
		assert.False(t, ok, "%v", bad)
	}
}
