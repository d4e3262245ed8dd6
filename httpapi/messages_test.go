package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
)

// TestErrorMessagesSayWhere checks that 400 answers about a point name the
// rule or warning, the key and where in the body the point was.
func TestErrorMessagesSayWhere(t *testing.T) {
	jsonHdr := []string{"Content-Type", "application/json"}
	rejectNoName := httpapi.Options{Constraint: constraint.Options{
		Actions: map[constraint.Rule]constraint.Action{constraint.RuleObjectName: constraint.Reject}}}
	tests := []struct {
		name   string
		target string
		body   string
		hdr    []string
		opts   httpapi.Options
		code   string
		msg    string // the whole message
	}{
		{
			name:   "strict string field on line 3",
			target: "/v1/write/metric?strict=1",
			body:   "a v=1 1\nb v=2 2\nc v=1,s=\"x\" 3\n",
			code:   httpapi.CodePointGotWarning,
			msg:    `invalid_field_value_type: field "s": metric field has a string value; field dropped (line 3)`,
		},
		{
			name:   "strict counts the other warnings",
			target: "/v1/write/metric?strict=1",
			body:   "a v=1 1\n\n# comment\nc v=1,s=\"x\",t=\"y\" 3\n",
			code:   httpapi.CodePointGotWarning,
			msg:    `invalid_field_value_type: field "s": metric field has a string value; field dropped (line 4) (and 1 more warnings)`,
		},
		{
			name:   "strict JSON string field in element 1",
			target: "/v1/write/metric?strict=1",
			body:   `[{"measurement":"m","fields":{"a":1}},{"measurement":"m","fields":{"a":1,"s":"x"}}]`,
			hdr:    jsonHdr,
			code:   httpapi.CodePointGotWarning,
			msg:    `invalid_field_value_type: field "s": metric field has a string value; field dropped (element 1)`,
		},
		{
			name:   "strict JSON null field from the decoder",
			target: "/v1/write/metric?strict=1",
			body:   `[{"measurement":"m","fields":{"a":1}},{"measurement":"m","fields":{"a":1,"n":null}}]`,
			hdr:    jsonHdr,
			code:   httpapi.CodePointGotWarning,
			msg:    `nil_field: field "n": null field value dropped (element 1)`,
		},
		{
			name:   "strict logging without status",
			target: "/v1/write/logging?strict=1",
			body:   "app message=\"x\" 1717243200\n",
			code:   httpapi.CodePointGotWarning,
			msg:    `add_required_kv: key "status": logging point has no status; field status="info" added (line 1)`,
		},
		{
			name:   "object without name on line 2",
			target: "/v1/write/object",
			body:   "a,name=x v=1 1\nredis,tag2=b f1=1i 1717243200\n",
			opts:   rejectNoName,
			code:   httpapi.CodePointRejected,
			msg:    `object_name: key "name": object point has no name (line 2)`,
		},
		{
			name:   "JSON object without name in element 0",
			target: "/v1/write/custom_object",
			body:   `[{"measurement":"m","fields":{"a":1}}]`,
			hdr:    jsonHdr,
			opts:   rejectNoName,
			code:   httpapi.CodePointRejected,
			msg:    `object_name: key "name": custom_object point has no name (element 0)`,
		},
		{
			name:   "every point dropped says why",
			target: "/v1/write/metric",
			body:   "cpu s=\"x\" 1\nmem t=\"y\" 2\n",
			code:   httpapi.CodeNoPoints,
			msg: `none of the 2 points is left after checking: ` +
				`invalid_field_value_type: field "s": metric field has a string value; field dropped (line 1); ` +
				`invalid_field_value_type: field "t": metric field has a string value; field dropped (line 2)`,
		},
		{
			name:   "every point dropped, loose",
			target: "/v1/write/metric?loose=1",
			body:   "bad\ncpu s=\"x\" 1\n",
			code:   httpapi.CodeNoPoints,
			msg: `none of the 1 points is left after checking: ` +
				`invalid_field_value_type: field "s": metric field has a string value; field dropped (line 2); ` +
				`protocol: at line 1:4: syntax error: expected tag key or field but found '\n' instead`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			h := newHandler(t, s, tt.opts)
			w := serve(h, request(http.MethodPost, tt.target, []byte(tt.body), tt.hdr...))
			require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			e := decodeError(t, w)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.msg, e.Message)
			assert.Zero(t, s.Calls())
		})
	}
}

// TestWarningsLogged checks that a 200 with warnings logs them at Debug
// with their count, key and line.
func TestWarningsLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &sink{}
	h := newHandler(t, s, httpapi.Options{Logger: log})
	w := serve(h, request(http.MethodPost, "/v1/write/metric?input=demo", []byte("cpu v=1 1\ncpu v=2,s=\"x\",t=\"y\" 2\n")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, s.Points(), 2)
	out := buf.String()
	assert.Contains(t, out, "level=DEBUG")
	assert.Contains(t, out, "input=demo")
	assert.Contains(t, out, "warnings=2")
	assert.Contains(t, out, `field \"s\": metric field has a string value; field dropped (line 2)`)
	assert.Contains(t, out, `field \"t\"`)

	buf.Reset()
	w = serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 1\n")))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Empty(t, buf.String(), "a clean write logs nothing")

	quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h = newHandler(t, s, httpapi.Options{Logger: quiet})
	w = serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1,s=\"x\" 1\n")))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Empty(t, buf.String(), "warnings are Debug records")
}

// TestLooseReportCounts checks that the loose report counts every bad line,
// also those beyond MaxDecodeErrors, and that with echo the count is in
// the X-Collectkit-Dropped header.
func TestLooseReportCounts(t *testing.T) {
	body := []byte("bad1\ncpu v=1 1\nbad2\nbad3\ncpu v=2,s=\"x\" 2\nmem s=\"y\" 3\n")
	tests := []struct {
		name      string
		maxErrors int
		target    string
		listed    int    // report entries, or -1 for an echo body
		echo      string // the echo body
	}{
		{name: "all listed", target: "/v1/write/metric?loose=1", listed: 4},
		{name: "one listed, four counted", maxErrors: 1, target: "/v1/write/metric?loose=1", listed: 3},
		{name: "echo lp keeps the count in a header", target: "/v1/write/metric?loose=1&echo=lp", listed: -1, echo: "cpu v=1 1000000000\ncpu v=2 2000000000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			h := newHandler(t, s, httpapi.Options{MaxDecodeErrors: tt.maxErrors})
			w := serve(h, request(http.MethodPost, tt.target, body))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "4", w.Header().Get(httpapi.HeaderDropped), "3 bad lines and 1 point without fields")
			assert.Len(t, s.Points(), 2)
			if tt.listed < 0 {
				assert.Equal(t, tt.echo, w.Body.String())
				return
			}
			var rep struct{ Content httpapi.LooseReport }
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep), w.Body.String())
			assert.Equal(t, 2, rep.Content.Accepted)
			assert.Equal(t, 4, rep.Content.Dropped)
			assert.Len(t, rep.Content.Errors, tt.listed)
			last := rep.Content.Errors[len(rep.Content.Errors)-1]
			assert.Equal(t, "no_field: point has no fields; point dropped (line 6)", last)
		})
	}
	t.Run("nothing dropped, no header", func(t *testing.T) {
		h := newHandler(t, &sink{}, httpapi.Options{})
		w := serve(h, request(http.MethodPost, "/v1/write/metric?loose=1&echo=lp", []byte("cpu v=1 1\n")))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, w.Header().Get(httpapi.HeaderDropped))
		assert.True(t, strings.HasPrefix(w.Body.String(), "cpu v=1"))
	})
}
