package constraint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// TestDataKitAutoFix replays the "auto-fix" cases of DataKit's own write API
// test (TestHandleBody): the body DataKit receives and the line protocol it
// echoes after its checker ran. Points stand in for the bodies, since
// decoding is package protocol's business.
func TestDataKitAutoFix(t *testing.T) {
	tests := []struct {
		name    string
		datakit string // DataKit's input -> output, as line protocol
		cat     point.Category
		in      point.Point
		want    point.Point
		codes   []point.WarningCode
	}{
		{
			name:    "logging without status gets status=info",
			datakit: `abc f1=123i 123 -> abc f1=123i,status="info" 123`,
			cat:     point.Logging,
			in:      pt("abc", nil, fields(fl("f1", point.IntValue(123)))),
			want:    pt("abc", nil, fields(fl("f1", point.IntValue(123)), fl("status", point.StringValue("info")))),
			codes:   []point.WarningCode{point.WarnAddRequiredKV},
		},
		{
			name:    "logging key with a dot",
			datakit: `abc f.1=123i,status="ok" 123 -> abc f_1=123i,status="ok" 123`,
			cat:     point.Logging,
			in:      pt("abc", nil, fields(fl("f.1", point.IntValue(123)), fl("status", point.StringValue("ok")))),
			want:    pt("abc", nil, fields(fl("f_1", point.IntValue(123)), fl("status", point.StringValue("ok")))),
			codes:   []point.WarningCode{point.WarnDotInKey},
		},
		{
			name:    "metric key with a dot is kept",
			datakit: `abc f3.14=1 123 -> abc f3.14=1 123`,
			cat:     point.Metric,
			in:      pt("abc", nil, fields(fl("f3.14", point.FloatValue(1)))),
			want:    pt("abc", nil, fields(fl("f3.14", point.FloatValue(1)))),
		},
		{
			name:    "empty measurement",
			datakit: `JSON {"measurement":"","fields":{"f1":123}} -> __default f1=123`,
			cat:     point.Metric,
			in:      pt("", nil, fields(fl("f1", point.FloatValue(123)))),
			want:    pt("__default", nil, fields(fl("f1", point.FloatValue(123)))),
			codes:   []point.WarningCode{point.WarnInvalidMeasurement},
		},
		{
			name:    "metric string field dropped",
			datakit: `abc,t1=b f1=123i,f3="strval" 123 -> abc,t1=b f1=123i 123`,
			cat:     point.Metric,
			in:      pt("abc", tags("t1", "b"), fields(fl("f1", point.IntValue(123)), fl("f3", point.StringValue("strval")))),
			want:    pt("abc", tags("t1", "b"), fields(fl("f1", point.IntValue(123)))),
			codes:   []point.WarningCode{point.WarnInvalidFieldValueType},
		},
		{
			// DataKit keeps the nil field (with a warning) and its encoders
			// skip it; dropping it gives the same output.
			name:    "JSON null field dropped",
			datakit: `JSON {"measurement":"abc","fields":{"f1":123,"f2":null}} -> abc f1=123`,
			cat:     point.Metric,
			in:      pt("abc", nil, fields(fl("f1", point.FloatValue(123)), fl("f2", point.Value{}))),
			want:    pt("abc", nil, fields(fl("f1", point.FloatValue(123)))),
			codes:   []point.WarningCode{point.WarnNilField},
		},
		{
			// We differ on purpose: DataKit adds name as a string field
			// (`some f1=123i,name="default" 123`); the DataKit documents and
			// DESIGN call name an object's tag, and objects are looked up by
			// it, so we add the tag.
			name:    "object without name (differs: tag, not field)",
			datakit: `some f1=123i 123 -> some f1=123i,name="default" 123`,
			cat:     point.Object,
			in:      pt("some", nil, fields(fl("f1", point.IntValue(123)))),
			want:    pt("some", tags("name", "default"), fields(fl("f1", point.IntValue(123)))),
			codes:   []point.WarningCode{point.WarnAddRequiredKV},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.in
			warns, err := Normalize(&p, tc.cat, Options{})
			require.NoError(t, err)
			checkOwned(t, New(Options{}), tc.in, tc.cat, p, warns, err)
			assert.Equal(t, tc.want, p, "DataKit: %s", tc.datakit)
			var codes []point.WarningCode
			for _, w := range warns {
				codes = append(codes, w.Code)
			}
			assert.Equal(t, tc.codes, codes)
		})
	}
}
