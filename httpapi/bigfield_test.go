package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// maxField is a string field of DataKit's largest size, which the
// constraint keeps whole.
func maxField() string {
	const pattern = "0123456789abcdef"
	return strings.Repeat(pattern, constraint.DefaultMaxFieldValueLen/len(pattern))
}

// TestMaximalFieldFitsDefaults posts bodies of about 33 MiB carrying one
// field at DataKit's 32 MiB limit, with the default Options, over a real
// connection: with Content-Length, chunked, gzip'd and as JSON from Python
// requests. Each is accepted and stored intact.
func TestMaximalFieldFitsDefaults(t *testing.T) {
	field := maxField()
	require.Equal(t, 32<<20, len(field))
	pad := strings.Repeat("p", 1<<20)
	lp := []byte(`app,host=h1 message="` + field + `",pad="` + pad + `" 1717243200000000000` + "\n")
	require.Greater(t, len(lp), 33<<20)
	var gzBody bytes.Buffer
	zw := gzip.NewWriter(&gzBody)
	_, _ = zw.Write(lp)
	require.NoError(t, zw.Close())

	check := func(t *testing.T, s *sink) {
		t.Helper()
		pts := s.Points()
		require.Len(t, pts, 1)
		msg, ok := pts[0].Field("message")
		require.True(t, ok)
		assert.Equal(t, point.KindString, msg.Kind())
		assert.True(t, msg.Str() == field, "message stored intact (%d bytes)", len(msg.Str()))
		p, _ := pts[0].Field("pad")
		assert.Equal(t, len(pad), len(p.Str()))
	}
	tests := []struct {
		name    string
		body    func() io.Reader
		hdr     []string
		chunked bool
	}{
		{"content-length", func() io.Reader { return bytes.NewReader(lp) }, nil, false},
		{"chunked", func() io.Reader { return struct{ io.Reader }{bytes.NewReader(lp)} }, nil, true},
		{"gzip", func() io.Reader { return bytes.NewReader(gzBody.Bytes()) }, []string{"Content-Encoding", "gzip"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			srv := loopbackServer(t, newHandler(t, s, httpapi.Options{}))
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/write/logging", tt.body())
			require.NoError(t, err)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			if tt.chunked {
				require.Zero(t, req.ContentLength, "unknown length: sent chunked")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "%.500s", msg)
			check(t, s)
		})
	}
	t.Run("python requests JSON", func(t *testing.T) {
		s := &sink{}
		srv := loopbackServer(t, newHandler(t, s, httpapi.Options{}))
		runPython(t, "requests", "big_logging.py", srv.URL)
		check(t, s)
		assert.Equal(t, "big", s.Batches()[0].Input)
	})
}
