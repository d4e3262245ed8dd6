package point_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

func TestValueKinds(t *testing.T) {
	tests := []struct {
		name string
		v    point.Value
		kind point.Kind
		any  any
		str  string
	}{
		{"int", point.IntValue(-42), point.KindInt, int64(-42), "-42"},
		{"uint", point.UintValue(math.MaxUint64), point.KindUint, uint64(math.MaxUint64), "18446744073709551615"},
		{"float", point.FloatValue(1.5), point.KindFloat, 1.5, "1.5"},
		{"string", point.StringValue("héllo"), point.KindString, "héllo", "héllo"},
		{"bool", point.BoolValue(true), point.KindBool, true, "true"},
		{"bytes", point.BytesValue([]byte{0, 1}), point.KindBytes, []byte{0, 1}, `"\x00\x01"`},
		{"zero", point.Value{}, point.KindInvalid, nil, "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.kind, tt.v.Kind())
			assert.Equal(t, tt.any, tt.v.Any())
			assert.Equal(t, tt.str, tt.v.String())
			assert.Equal(t, tt.kind != point.KindInvalid, tt.v.IsValid())
			back, ok := point.AnyValue(tt.any)
			assert.Equal(t, tt.kind != point.KindInvalid, ok)
			assert.True(t, back.Equal(tt.v), "AnyValue(Any()) = %v, want %v", back, tt.v)
		})
	}
}

func TestValueAccessorPanicsOnWrongKind(t *testing.T) {
	assert.PanicsWithValue(t, "point: Value.Int called on a float value", func() { point.FloatValue(1).Int() })
	assert.Panics(t, func() { point.IntValue(1).Str() })
	assert.NotPanics(t, func() { _ = point.BytesValue([]byte("x")).Str() })
}

func TestValueEqualFloatBits(t *testing.T) {
	assert.True(t, point.FloatValue(math.NaN()).Equal(point.FloatValue(math.NaN())))
	assert.False(t, point.FloatValue(0).Equal(point.FloatValue(math.Copysign(0, -1))))
	assert.False(t, point.IntValue(1).Equal(point.UintValue(1)))
}

func TestKindText(t *testing.T) {
	for k := point.KindInvalid; k <= point.KindBytes; k++ {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var got point.Kind
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, k, got)
	}
	var k point.Kind
	assert.Error(t, k.UnmarshalText([]byte("decimal")))
}

func TestCategoryRoundTrip(t *testing.T) {
	names := []string{"metric", "logging", "object", "custom_object", "keyevent", "rum", "network", "tracing", "security", "profiling"}
	require.Len(t, point.Categories(), len(names))
	for i, c := range point.Categories() {
		assert.Equal(t, names[i], c.String())
		got, err := point.ParseCategory(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, got)
		txt, err := c.MarshalText()
		require.NoError(t, err)
		var u point.Category
		require.NoError(t, u.UnmarshalText(txt))
		assert.Equal(t, c, u)
	}
	for _, bad := range []string{"", "unknown", "metrics", "Metric"} {
		_, err := point.ParseCategory(bad)
		assert.Error(t, err, bad)
	}
	_, err := point.CategoryUnknown.MarshalText()
	assert.Error(t, err)
}

func TestWarningCodeText(t *testing.T) {
	w := point.Warning{Code: point.WarnDotInKey, Key: "a.b", Message: `key "a.b" renamed to "a_b"`}
	assert.Equal(t, `dot_in_key: key "a.b" renamed to "a_b"`, w.String())
	b, err := point.WarnExceedMaxTags.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "exceed_max_tags", string(b))
	var c point.WarningCode
	require.NoError(t, c.UnmarshalText([]byte("nil_field")))
	assert.Equal(t, point.WarnNilField, c)
}

func TestPointCloneAliasesNothing(t *testing.T) {
	buf := []byte("cpu host web01 text")
	p := point.Point{
		Name:   string(buf[0:3]),
		Tags:   []point.Tag{{Key: "host", Value: "web01"}},
		Fields: []point.Field{{Key: "b", Value: point.BytesValue(buf[15:19])}},
		Time:   time.Unix(1, 0),
	}
	c := p.Clone()
	copy(buf[15:], "XXXX")
	assert.Equal(t, "text", c.Fields[0].Value.Str())
	assert.Equal(t, "XXXX", p.Fields[0].Value.Str())
	c.Tags[0].Value = "other"
	assert.Equal(t, "web01", p.Tags[0].Value)
	assert.True(t, point.Point{}.Clone().Equal(point.Point{}))
}

func TestPointAccessorsAndString(t *testing.T) {
	p := point.New("cpu", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	p.AddTag("host", "a").AddField("usage", point.FloatValue(0.5)).AddField("msg", point.StringValue("hi"))
	v, ok := p.Tag("host")
	assert.True(t, ok)
	assert.Equal(t, "a", v)
	_, ok = p.Tag("nope")
	assert.False(t, ok)
	f, ok := p.Field("usage")
	assert.True(t, ok)
	assert.Equal(t, 0.5, f.Float())
	assert.Equal(t, `cpu,host=a usage=0.5,msg="hi" 2026-01-02T03:04:05Z`, p.String())
}

func TestMultiSinkJoinsErrorsAndKeepsGoing(t *testing.T) {
	var calls []string
	ok := point.SinkFunc(func(context.Context, point.Batch) error { calls = append(calls, "ok"); return nil })
	busy := point.SinkFunc(func(context.Context, point.Batch) error {
		calls = append(calls, "busy")
		return point.Busy(errors.New("queue full"), 3*time.Second)
	})
	broken := point.SinkFunc(func(context.Context, point.Batch) error {
		calls = append(calls, "broken")
		return errors.New("disk gone")
	})

	err := point.MultiSink(busy, broken, ok).Write(context.Background(), point.Batch{Category: point.Metric})
	require.Error(t, err)
	assert.Equal(t, []string{"busy", "broken", "ok"}, calls)
	assert.ErrorIs(t, err, point.ErrBusy)
	assert.Contains(t, err.Error(), "disk gone")
	ra, isBusy := point.RetryAfter(err)
	assert.True(t, isBusy)
	assert.Equal(t, 3*time.Second, ra)

	assert.NoError(t, point.MultiSink(ok, point.Discard()).Write(context.Background(), point.Batch{}))
}

func TestRetryAfter(t *testing.T) {
	_, busy := point.RetryAfter(errors.New("nope"))
	assert.False(t, busy)
	d, busy := point.RetryAfter(point.ErrBusy)
	assert.True(t, busy)
	assert.Zero(t, d)
	wrapped := errors.Join(errors.New("x"), point.Busy(nil, time.Second))
	d, busy = point.RetryAfter(wrapped)
	assert.True(t, busy)
	assert.Equal(t, time.Second, d)
	assert.Equal(t, "point: sink busy, try again later", point.Busy(nil, 0).Error())
}

func TestBatchClone(t *testing.T) {
	b := point.Batch{Category: point.Logging, Input: "in", Points: []point.Point{{Name: "a", Tags: []point.Tag{{Key: "k", Value: "v"}}}}}
	c := b.Clone()
	c.Points[0].Tags[0].Value = "changed"
	assert.Equal(t, "v", b.Points[0].Tags[0].Value)
	assert.Equal(t, b.Category, c.Category)
	assert.Equal(t, b.Input, c.Input)
}
