package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// pipelineCall is what a test Pipeline saw.
type pipelineCall struct {
	source string
	cat    point.Category
	route  httpapi.Route
	host   string // the point's host tag, to see the global tags
}

// testPipeline drops points whose "drop" field is true, fails on a "fail"
// field, panics on a "panic" field, and otherwise adds field seen=true.
type testPipeline struct {
	mu    sync.Mutex
	calls []pipelineCall
}

func (tp *testPipeline) run(ctx context.Context, source string, c point.Category, p *point.Point) (bool, error) {
	ri, _ := httpapi.RequestInfoFromContext(ctx)
	host, _ := p.Tag("host")
	tp.mu.Lock()
	tp.calls = append(tp.calls, pipelineCall{source, c, ri.Route, host})
	tp.mu.Unlock()
	if _, ok := p.Field("drop"); ok {
		return false, nil
	}
	if _, ok := p.Field("fail"); ok {
		p.AddField("half", point.BoolValue(true))
		return true, errors.New("grok: no match")
	}
	if _, ok := p.Field("panic"); ok {
		panic("script bug")
	}
	p.AddField("seen", point.BoolValue(true))
	return true, nil
}

func (tp *testPipeline) Calls() []pipelineCall {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]pipelineCall(nil), tp.calls...)
}

func TestPipeline(t *testing.T) {
	type setup struct {
		h     *httpapi.Handler
		s     *sink
		tp    *testPipeline
		warns func() []point.Warning
	}
	newSetup := func(t *testing.T) setup {
		var mu sync.Mutex
		var warns []point.Warning
		tp := &testPipeline{}
		s := &sink{}
		h := newHandler(t, s, httpapi.Options{
			Pipeline:       tp.run,
			GlobalHostTags: map[string]string{"host": "web01"},
			Constraint: constraint.Options{OnWarnings: func(_ context.Context, _ point.Batch, ws []point.Warning) {
				mu.Lock()
				warns = append(warns, ws...)
				mu.Unlock()
			}},
		})
		return setup{h, s, tp, func() []point.Warning {
			mu.Lock()
			defer mu.Unlock()
			return append([]point.Warning(nil), warns...)
		}}
	}

	t.Run("source and measurement", func(t *testing.T) {
		x := newSetup(t)
		body := "nginx,status=info message=\"a\" 1\nredis message=\"b\",status=\"ok\" 2\n"
		w := serve(x.h, request(http.MethodPost, "/v1/write/logging", []byte(body)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		w = serve(x.h, request(http.MethodPost, "/v1/write/logging?source=app", []byte("nginx,status=info message=\"c\" 3\n")))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, []pipelineCall{
			{"nginx", point.Logging, httpapi.RouteWrite, "web01"},
			{"redis", point.Logging, httpapi.RouteWrite, "web01"},
			{"app", point.Logging, httpapi.RouteWrite, "web01"},
		}, x.tp.Calls())
		for _, p := range x.s.Points() {
			v, ok := p.Field("seen")
			assert.True(t, ok && v.Bool(), "%s", p)
		}
		assert.Empty(t, w.Header().Get(httpapi.HeaderDropped))
		assert.Empty(t, x.warns())
	})

	t.Run("not on other categories", func(t *testing.T) {
		x := newSetup(t)
		for _, tgt := range []string{"/v1/write/metric", "/v1/write/object", "/write?db=d", "/api/v2/write?bucket=b"} {
			w := serve(x.h, request(http.MethodPost, tgt, []byte("m,name=n v=1 1\n")))
			require.Less(t, w.Code, 300, "%s: %s", tgt, w.Body.String())
		}
		assert.Empty(t, x.tp.Calls())
	})

	t.Run("drop", func(t *testing.T) {
		x := newSetup(t)
		body := "app message=\"x\",drop=true 1\napp message=\"y\",f.1=1i 2\napp message=\"z\",drop=true 3\n"
		w := serve(x.h, request(http.MethodPost, "/v1/write/logging", []byte(body)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Empty(t, w.Body.String(), "a plain write keeps DataKit's empty answer")
		assert.Equal(t, "2", w.Header().Get(httpapi.HeaderDropped))
		pts := x.s.Points()
		require.Len(t, pts, 1)
		msg, _ := pts[0].Field("message")
		assert.Equal(t, "y", msg.Str())
		// The warnings name the point by its place in the body.
		ws := x.warns()
		require.Len(t, ws, 2, "%v", ws)
		for _, w := range ws {
			assert.Equal(t, 1, w.Point, "%v", w)
		}

		w = serve(x.h, request(http.MethodPost, "/v1/write/logging?strict=1", []byte(body)))
		require.Equal(t, http.StatusBadRequest, w.Code)
		assert.Equal(t, `dot_in_key: key "f.1": field key contains "."; renamed to "f_1" (line 2) (and 1 more warnings)`, decodeError(t, w).Message)

		w = serve(x.h, request(http.MethodPost, "/v1/write/logging?loose=1", []byte(body)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "2", w.Header().Get(httpapi.HeaderDropped))
		var rep struct{ Content httpapi.LooseReport }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep), w.Body.String())
		assert.Equal(t, httpapi.LooseReport{Accepted: 1, Dropped: 2, Errors: []string{
			`pipeline: the pipeline for source "app" dropped the point (line 1)`,
			`pipeline: the pipeline for source "app" dropped the point (line 3)`,
		}}, rep.Content)
	})

	t.Run("all dropped", func(t *testing.T) {
		x := newSetup(t)
		w := serve(x.h, request(http.MethodPost, "/v1/write/logging", []byte("app message=\"x\",drop=true 1\n")))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "1", w.Header().Get(httpapi.HeaderDropped))
		assert.Zero(t, x.s.Calls())
	})

	t.Run("error and panic keep the point", func(t *testing.T) {
		x := newSetup(t)
		body := "app message=\"x\",fail=true,status=\"ok\" 1\napp message=\"y\",panic=true,status=\"ok\" 2\n"
		w := serve(x.h, request(http.MethodPost, "/v1/write/logging", []byte(body)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		pts := x.s.Points()
		require.Len(t, pts, 2)
		_, half := pts[0].Field("half")
		assert.True(t, half, "kept as the pipeline left it: %s", pts[0])
		ws := x.warns()
		require.Len(t, ws, 2)
		assert.Equal(t, 0, ws[0].Point)
		assert.Equal(t, `pipeline for source "app" failed: grok: no match; point kept as the pipeline left it`, ws[0].Message)
		assert.Equal(t, 1, ws[1].Point)
		assert.Contains(t, ws[1].Message, "panic: script bug")

		w = serve(x.h, request(http.MethodPost, "/v1/write/logging?strict=1", []byte(body)))
		require.Equal(t, http.StatusBadRequest, w.Code)
		e := decodeError(t, w)
		assert.Equal(t, httpapi.CodePointGotWarning, e.Code)
		assert.True(t, strings.HasSuffix(e.Message, "point kept as the pipeline left it (line 1) (and 1 more warnings)"), e.Message)
	})

	t.Run("JSON over a connection", func(t *testing.T) {
		x := newSetup(t)
		srv := loopbackServer(t, x.h)
		resp, err := http.Post(srv.URL+"/v1/write/logging?source=app", "application/json",
			strings.NewReader(`[{"measurement":"x","fields":{"message":"a","drop":true}},{"measurement":"x","fields":{"message":"b"}}]`))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get(httpapi.HeaderDropped))
		require.Len(t, x.s.Points(), 1)
		assert.Equal(t, "app", x.s.Batches()[0].Source)
	})
}
