package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// TestConstraintOptions checks that the write route applies
// Constraint.OnWarnings and Constraint.WritePartial as the constraint
// middleware does.
func TestConstraintOptions(t *testing.T) {
	const body = "web,a=x a=1i,b=2i 1\nweb,host=h n=1i 2\nweb s=\"only\" 3\n"
	for _, tc := range []struct {
		name     string
		partial  bool
		status   int
		written  int
		report   []string
		warnings []point.WarningCode
	}{
		{name: "refused", status: http.StatusBadRequest,
			warnings: []point.WarningCode{point.WarnInvalidFieldValueType, point.WarnNoField}},
		{name: "partial", partial: true, status: http.StatusOK, written: 1,
			report:   []string{`key_conflict: key "a": key is both a tag and a field (line 1)`},
			warnings: []point.WarningCode{point.WarnInvalidFieldValueType, point.WarnNoField}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []point.Warning
			var batches []point.Batch
			s := &sink{}
			h := newHandler(t, s, httpapi.Options{Constraint: constraint.Options{
				Actions:      map[constraint.Rule]constraint.Action{constraint.RuleKeyConflict: constraint.Reject},
				WritePartial: tc.partial,
				OnWarnings: func(_ context.Context, b point.Batch, ws []point.Warning) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, ws...)
					batches = append(batches, b.Clone())
				},
			}})
			w := serve(h, request(http.MethodPost, "/v1/write/metric?input=demo", []byte(body)))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.written, len(s.Points()))
			var codes []point.WarningCode
			for _, w := range got {
				codes = append(codes, w.Code)
				assert.Equal(t, 2, w.Point, "the index of the point in the body")
			}
			assert.Equal(t, tc.warnings, codes)
			require.Len(t, batches, 1)
			assert.Equal(t, "demo", batches[0].Input)
			if tc.status != http.StatusOK {
				e := decodeError(t, w)
				assert.Equal(t, httpapi.CodePointRejected, e.Code)
				assert.Equal(t, `key_conflict: key "a": key is both a tag and a field (line 1)`, e.Message)
				return
			}
			var rep struct{ Content httpapi.LooseReport }
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep), w.Body.String())
			assert.Equal(t, tc.report, rep.Content.Errors)
		})
	}
}
