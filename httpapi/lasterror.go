package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// LastError is an error an external collector reported: DataKit's
// /v1/lasterror body, with the time it was received.
type LastError struct {
	Input   string    `json:"input"`
	Source  string    `json:"source,omitempty"`
	Content string    `json:"err_content"`
	Time    time.Time `json:"time"`
}

// lastErrorStore keeps the newest reports per input, bounded both per input
// and in the number of inputs.
type lastErrorStore struct {
	mu       sync.Mutex
	perInput int
	inputs   int
	byInput  map[string][]LastError
}

func (s *lastErrorStore) add(e LastError) {
	if s.perInput <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byInput == nil {
		s.byInput = make(map[string][]LastError)
	}
	list, ok := s.byInput[e.Input]
	if !ok && len(s.byInput) >= s.inputs {
		s.evictOldest()
	}
	if len(list) >= s.perInput {
		copy(list, list[1:])
		list = list[:len(list)-1]
	}
	s.byInput[e.Input] = append(list, e)
}

// evictOldest forgets the input whose newest report is the oldest.
func (s *lastErrorStore) evictOldest() {
	var victim string
	var oldest time.Time
	first := true
	for in, list := range s.byInput {
		t := list[len(list)-1].Time
		if first || t.Before(oldest) {
			victim, oldest, first = in, t, false
		}
	}
	delete(s.byInput, victim)
}

func (s *lastErrorStore) all() []LastError {
	s.mu.Lock()
	var out []LastError
	for _, list := range s.byInput {
		out = append(out, list...)
	}
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Input < out[j].Input
	})
	return out
}

// LastErrors returns the kept lasterror reports, oldest first: at most
// Options.LastErrorsPerInput per input. The slice is the caller's.
func (h *Handler) LastErrors() []LastError { return h.lastErrs.all() }

// ReportLastError records e as if it had been posted to /v1/lasterror: it is
// stored for LastErrors and handed to Hooks.OnLastError. A zero e.Time is
// set to the current time. Hosts use it for errors of their other inputs
// (for example a Python collector supervisor), so all of them reach the same
// hook and store.
func (h *Handler) ReportLastError(ctx context.Context, e LastError) {
	if e.Time.IsZero() {
		e.Time = h.now()
	}
	h.lastErrs.add(e)
	if h.opts.Hooks.OnLastError != nil {
		h.opts.Hooks.OnLastError(ctx, e)
	}
}

// serveLastError handles POST /v1/lasterror.
func (h *Handler) serveLastError(w http.ResponseWriter, r *http.Request) error {
	body, release, err := h.readJSONBody(w, r)
	if err != nil {
		return err
	}
	defer release()
	var req struct {
		Input      string `json:"input"`
		Source     string `json:"source"`
		ErrContent string `json:"err_content"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "lasterror body is not the JSON object {\"input\",\"source\",\"err_content\"}: %v", err)
	}
	var missing []string
	if strings.TrimSpace(req.Input) == "" {
		missing = append(missing, "input")
	}
	if strings.TrimSpace(req.ErrContent) == "" {
		missing = append(missing, "err_content")
	}
	if len(missing) > 0 {
		return apiErr(http.StatusBadRequest, CodeInputOrErrContentNil, "lasterror body: %s must not be empty", strings.Join(missing, " and "))
	}
	h.ReportLastError(r.Context(), LastError{Input: req.Input, Source: req.Source, Content: req.ErrContent, Time: h.now()})
	w.WriteHeader(http.StatusOK)
	return nil
}
