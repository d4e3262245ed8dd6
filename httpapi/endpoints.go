package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/collectkit/collectkit/point"
)

// QueryRequest is the body of POST /v1/query/raw.
type QueryRequest struct {
	Queries     []Query `json:"queries"`
	EchoExplain bool    `json:"echo_explain"`
}

// Query is one DQL query of a QueryRequest. Field meanings are DataKit's.
type Query struct {
	Query                string              `json:"query"`                            // the DQL statement; required
	Conditions           string              `json:"conditions,omitempty"`             // extra DQL conditions, ANDed
	MaxDuration          string              `json:"max_duration,omitempty"`           // e.g. "1d", "2w"; units ns us ms s m h d w y
	MaxPoint             int64               `json:"max_point,omitempty"`              // aggregation point cap
	TimeRange            []int64             `json:"time_range,omitempty"`             // [start] or [start, end], Unix ms
	OrderBy              []map[string]string `json:"orderby,omitempty"`                // [{"column": "asc"|"desc"}]
	DisableSlimit        bool                `json:"disable_slimit,omitempty"`         // no default SLIMIT 20
	DisableMultipleField bool                `json:"disable_multiple_field,omitempty"` // single field only
	Highlight            bool                `json:"highlight,omitempty"`
	Limit                int64               `json:"limit,omitempty"`
	Offset               int64               `json:"offset,omitempty"`
	SLimit               int64               `json:"slimit,omitempty"`
	SearchAfter          []any               `json:"search_after,omitempty"`
}

var durationRE = regexp.MustCompile(`^([0-9]+(ns|us|ms|s|m|h|d|w|y))+$`)

// Validate reports what is wrong with q, naming the query index and field.
func (q QueryRequest) Validate() error {
	if len(q.Queries) == 0 {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "query/raw: \"queries\" is empty")
	}
	for i, x := range q.Queries {
		if strings.TrimSpace(x.Query) == "" {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "query/raw: queries[%d].query is empty", i)
		}
		if x.MaxDuration != "" && !durationRE.MatchString(x.MaxDuration) {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "query/raw: queries[%d].max_duration %q is not a duration like 1d or 2w", i, x.MaxDuration)
		}
		if len(x.TimeRange) > 2 {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "query/raw: queries[%d].time_range has %d elements, want at most 2", i, len(x.TimeRange))
		}
		for j, ob := range x.OrderBy {
			for col, dir := range ob {
				if d := strings.ToLower(dir); d != "asc" && d != "desc" {
					return apiErr(http.StatusBadRequest, CodeBadRequest, "query/raw: queries[%d].orderby[%d][%q] is %q, want asc or desc", i, j, col, dir)
				}
			}
		}
		if x.MaxPoint < 0 || x.Limit < 0 || x.Offset < 0 || x.SLimit < 0 {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "query/raw: queries[%d] has a negative max_point, limit, offset or slimit", i)
		}
	}
	return nil
}

// ObjectLabels is the body of POST and DELETE /v1/object/labels. Labels is
// only meaningful for POST.
type ObjectLabels struct {
	ObjectClass string   `json:"object_class"` // e.g. "host_processes"; required
	ObjectName  string   `json:"object_name"`  // e.g. "host-123"; required
	Key         string   `json:"key"`          // the object's field the labels attach to
	Value       string   `json:"value"`        // that field's value; any JSON scalar, kept as text
	Labels      []string `json:"labels"`       // the labels; required for POST
}

// UnmarshalJSON accepts any JSON scalar for "value" (DataKit documents its
// type as "void").
func (l *ObjectLabels) UnmarshalJSON(b []byte) error {
	var raw struct {
		ObjectClass string          `json:"object_class"`
		ObjectName  string          `json:"object_name"`
		Key         string          `json:"key"`
		Value       json.RawMessage `json:"value"`
		Labels      []string        `json:"labels"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*l = ObjectLabels{ObjectClass: raw.ObjectClass, ObjectName: raw.ObjectName, Key: raw.Key, Labels: raw.Labels}
	v := bytes.TrimSpace(raw.Value)
	switch {
	case len(v) == 0 || string(v) == "null":
	case v[0] == '"':
		return json.Unmarshal(v, &l.Value)
	case v[0] == '{' || v[0] == '[':
		return fmt.Errorf("value must be a JSON scalar, not %s", v[:1])
	default:
		l.Value = string(v)
	}
	return nil
}

func (l ObjectLabels) validate(del bool) error {
	var missing []string
	if l.ObjectClass == "" {
		missing = append(missing, "object_class")
	}
	if l.ObjectName == "" {
		missing = append(missing, "object_name")
	}
	if !del && l.Labels == nil {
		missing = append(missing, "labels")
	}
	if len(missing) > 0 {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "object/labels: missing %s", strings.Join(missing, ", "))
	}
	for i, s := range l.Labels {
		if s == "" {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "object/labels: labels[%d] is empty", i)
		}
	}
	return nil
}

// PipelineDebugRequest is the body of POST /v1/pipeline/debug, with the
// base64 parts decoded.
type PipelineDebugRequest struct {
	Pipeline   string         // the pipeline script source
	ScriptName string         // the script's name
	Category   point.Category // which data the script is for
	Data       [][]byte       // raw log text (logging) or line protocol (others)
	Encode     string         // character encoding of Data; "utf8" when absent
	Benchmark  bool           // whether to benchmark the script
}

// DialtestingDebugRequest is the body of POST /v1/dialtesting/debug. Task is
// kept as raw JSON because its shape depends on TaskType.
type DialtestingDebugRequest struct {
	TaskType string          `json:"task_type"` // http, tcp, icmp, websocket, dns, udp, grpc or multi
	Task     json.RawMessage `json:"task"`      // a JSON object
}

var dialTaskTypes = []string{"http", "tcp", "icmp", "websocket", "dns", "udp", "grpc", "multi"}

// decodeJSON reads the request body into v.
func (h *Handler) decodeJSON(w http.ResponseWriter, r *http.Request, what string, v any) error {
	body, err := h.readJSONBody(w, r)
	if err != nil {
		return err
	}
	defer body.close()
	// encoding/json allocates about what it reads again.
	if err := body.lease.grow(int64(len(body.data)), "decoding the body"); err != nil {
		return err
	}
	if err := json.Unmarshal(body.data, v); err != nil {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "%s: invalid JSON body: %v", what, err)
	}
	return nil
}

func notImplemented(path string) error {
	return apiErr(http.StatusNotImplemented, CodeNotImplemented, "%s is not provided by this host", path)
}

// answer calls a hook and writes its result as {"content": ...}.
func answer(w http.ResponseWriter, res any, err error) error {
	if err != nil {
		return err
	}
	return writeContent(w, res)
}

func (h *Handler) serveWorkspace(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Hooks.Workspace == nil {
		return notImplemented(r.URL.Path)
	}
	res, err := h.opts.Hooks.Workspace(r.Context())
	return answer(w, res, err)
}

func (h *Handler) serveQueryRaw(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Hooks.QueryRaw == nil {
		return notImplemented(r.URL.Path)
	}
	var q QueryRequest
	if err := h.decodeJSON(w, r, "query/raw", &q); err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return err
	}
	res, err := h.opts.Hooks.QueryRaw(r.Context(), q)
	return answer(w, res, err)
}

func (h *Handler) serveObjectLabels(w http.ResponseWriter, r *http.Request) error {
	del := r.Method == http.MethodDelete
	hook := h.opts.Hooks.SetObjectLabels
	if del {
		hook = h.opts.Hooks.DeleteObjectLabels
	}
	if hook == nil {
		return notImplemented(r.Method + " " + r.URL.Path)
	}
	var l ObjectLabels
	if err := h.decodeJSON(w, r, "object/labels", &l); err != nil {
		return err
	}
	if err := l.validate(del); err != nil {
		return err
	}
	res, err := hook(r.Context(), l)
	return answer(w, res, err)
}

func (h *Handler) servePipelineDebug(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Hooks.PipelineDebug == nil {
		return notImplemented(r.URL.Path)
	}
	var raw struct {
		Pipeline   string   `json:"pipeline"`
		ScriptName string   `json:"script_name"`
		Category   string   `json:"category"`
		Data       []string `json:"data"`
		Encode     string   `json:"encode"`
		Benchmark  bool     `json:"benchmark"`
	}
	if err := h.decodeJSON(w, r, "pipeline/debug", &raw); err != nil {
		return err
	}
	req, err := raw2pipeline(raw.Pipeline, raw.ScriptName, raw.Category, raw.Data, raw.Encode, raw.Benchmark)
	if err != nil {
		return err
	}
	res, err := h.opts.Hooks.PipelineDebug(r.Context(), req)
	return answer(w, res, err)
}

func raw2pipeline(pl, script, category string, data []string, encode string, bench bool) (PipelineDebugRequest, error) {
	var req PipelineDebugRequest
	src, err := base64.StdEncoding.DecodeString(pl)
	if err != nil || len(src) == 0 {
		return req, apiErr(http.StatusBadRequest, CodeBadRequest, "pipeline/debug: \"pipeline\" must be non-empty standard base64 (%v)", err)
	}
	cat, err := point.ParseCategory(category)
	if err != nil {
		return req, apiErr(http.StatusBadRequest, CodeInvalidCategory, "pipeline/debug: invalid category %q; want one of %s", category, categoryList())
	}
	if len(data) == 0 {
		return req, apiErr(http.StatusBadRequest, CodeBadRequest, "pipeline/debug: \"data\" is empty")
	}
	req = PipelineDebugRequest{Pipeline: string(src), ScriptName: script, Category: cat, Encode: encode, Benchmark: bench}
	for i, d := range data {
		b, err := base64.StdEncoding.DecodeString(d)
		if err != nil {
			return PipelineDebugRequest{}, apiErr(http.StatusBadRequest, CodeBadRequest, "pipeline/debug: data[%d] is not standard base64: %v", i, err)
		}
		req.Data = append(req.Data, b)
	}
	if req.Encode == "" {
		req.Encode = "utf8"
	}
	return req, nil
}

func (h *Handler) serveDialtestingDebug(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Hooks.DialtestingDebug == nil {
		return notImplemented(r.URL.Path)
	}
	var req DialtestingDebugRequest
	if err := h.decodeJSON(w, r, "dialtesting/debug", &req); err != nil {
		return err
	}
	if !slices.Contains(dialTaskTypes, req.TaskType) {
		return apiErr(http.StatusBadRequest, CodeInvalidClass, "dialtesting/debug: invalid task_type %q; want one of %s", req.TaskType, strings.Join(dialTaskTypes, ", "))
	}
	if t := bytes.TrimSpace(req.Task); len(t) == 0 || t[0] != '{' {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "dialtesting/debug: \"task\" must be a JSON object")
	}
	res, err := h.opts.Hooks.DialtestingDebug(r.Context(), req)
	return answer(w, res, err)
}
