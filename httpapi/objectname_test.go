package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// TestObjectWithoutName checks DataKit's default for an object point
// without "name" on every route that writes objects: the point is written
// with name="default" added and an add_required_kv warning, exactly as
// constraint.Normalize fixes it with the zero Options (pythond's pipe mode
// uses those), and strict refuses it for the warning as DataKit does.
func TestObjectWithoutName(t *testing.T) {
	const line = `redis,tag2=b f1=1i,message="xxx" 1620723870000000000`
	const js = `[{"measurement":"redis","tags":{"tag2":"b"},"fields":{"f1":1,"message":"xxx"},"time":1620723870000000000}]`
	tests := []struct {
		name, target, body string
		hdr                []string
		cat                point.Category
	}{
		{"object", "/v1/write/object", line, nil, point.Object},
		{"object loose", "/v1/write/object?loose=1", line, nil, point.Object},
		{"custom_object", "/v1/write/custom_object", line, nil, point.CustomObject},
		{"object JSON", "/v1/write/object?precision=n", js, []string{"Content-Type", "application/json"}, point.Object},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var warns []point.Warning
			s := &sink{}
			h := newHandler(t, s, httpapi.Options{Constraint: constraint.Options{
				OnWarnings: func(_ context.Context, _ point.Batch, ws []point.Warning) {
					mu.Lock()
					warns = append(warns, ws...)
					mu.Unlock()
				},
			}})
			w := serve(h, request(http.MethodPost, tt.target, []byte(tt.body), tt.hdr...))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Empty(t, w.Body.String())
			got := s.Points()
			require.Len(t, got, 1)
			name, ok := got[0].Tag("name")
			assert.True(t, ok, "name added as a tag: %s", got[0])
			assert.Equal(t, "default", name)

			// The same point through constraint.Normalize with the
			// zero Options.
			var dec protocol.Decoder
			var pts []point.Point
			var err error
			if strings.HasPrefix(tt.body, "[") {
				pts, _, err = dec.DecodeJSON([]byte(tt.body), protocol.Options{Precision: protocol.Nanosecond, Now: fixedNow})
			} else {
				pts, err = dec.DecodeLineProtocol([]byte(tt.body), protocol.Options{Now: fixedNow})
			}
			require.NoError(t, err)
			require.Len(t, pts, 1)
			want := pts[0].Clone()
			nw, err := constraint.Normalize(&want, tt.cat, constraint.Options{})
			require.NoError(t, err)
			assertPoints(t, []point.Point{want}, got)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, warns, 1)
			require.Len(t, nw, 1)
			assert.Equal(t, point.WarnAddRequiredKV, warns[0].Code)
			assert.Equal(t, nw[0].Code, warns[0].Code)
			assert.Equal(t, nw[0].Key, warns[0].Key)
			assert.Equal(t, nw[0].Message, warns[0].Message)
		})
	}

	t.Run("strict", func(t *testing.T) {
		s := &sink{}
		h := newHandler(t, s, httpapi.Options{})
		w := serve(h, request(http.MethodPost, "/v1/write/object?strict=1", []byte(line)))
		require.Equal(t, http.StatusBadRequest, w.Code)
		e := decodeError(t, w)
		assert.Equal(t, httpapi.CodePointGotWarning, e.Code)
		assert.Equal(t, `add_required_kv: key "name": object point has no name; tag name="default" added (line 1)`, e.Message)
		assert.Zero(t, s.Calls())
	})

	t.Run("rejected by option", func(t *testing.T) {
		s := &sink{}
		h := newHandler(t, s, httpapi.Options{Constraint: constraint.Options{
			Actions: map[constraint.Rule]constraint.Action{constraint.RuleObjectName: constraint.Reject}}})
		w := serve(h, request(http.MethodPost, "/v1/write/object", []byte("a,name=x v=1 1\n"+line)))
		require.Equal(t, http.StatusBadRequest, w.Code)
		assert.Equal(t, httpapi.CodePointRejected, decodeError(t, w).Code)
		assert.Zero(t, s.Calls())

		// loose writes the others and lists the rejection.
		w = serve(h, request(http.MethodPost, "/v1/write/object?loose=1", []byte("a,name=x v=1 1\n"+line)))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Contains(t, w.Body.String(), `object_name: key \"name\": object point has no name (line 2)`)
		assert.Equal(t, "1", w.Header().Get(httpapi.HeaderDropped))
		require.Len(t, s.Points(), 1)
		assert.Equal(t, "a", s.Points()[0].Name)
	})
}
