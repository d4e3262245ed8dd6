package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// LastError is an error an external collector reported: DataKit's
// /v1/lasterror body, with the time it was received.
type LastError struct {
	Input   string    `json:"input"`
	Source  string    `json:"source,omitempty"`
	Content string    `json:"err_content"`
	Time    time.Time `json:"time"`
	// Truncated is set when Content was cut to Options.LastErrorMaxBytes;
	// Content then ends in a note saying so, and Size is the length in
	// bytes of the content as reported.
	Truncated bool `json:"truncated,omitempty"`
	Size      int  `json:"size,omitempty"`
}

// truncate cuts e's content to at most max bytes (at a UTF-8 boundary)
// plus a note, copying the part kept so that the long original is not
// kept alive through it.
func (e *LastError) truncate(max int) {
	if e.Truncated || max < 0 || len(e.Content) <= max {
		return
	}
	keep := max
	for keep > 0 && !utf8.RuneStart(e.Content[keep]) {
		keep--
	}
	e.Size = len(e.Content)
	e.Truncated = true
	e.Content = e.Content[:keep] + fmt.Sprintf(" [truncated: %d bytes reported, the first %d kept]", e.Size, keep)
}

// lastErrorStore keeps the newest reports per input, bounded per input, in
// the number of inputs and in the content bytes of all of them.
type lastErrorStore struct {
	mu       sync.Mutex
	perInput int
	inputs   int
	maxTotal int // content bytes over all reports; < 0: no bound
	total    int
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
		s.evictOldestInput()
	}
	if len(list) >= s.perInput {
		s.total -= len(list[0].Content)
		copy(list, list[1:])
		list[len(list)-1] = LastError{}
		list = list[:len(list)-1]
	}
	s.byInput[e.Input] = append(list, e)
	s.total += len(e.Content)
	for s.maxTotal >= 0 && s.total > s.maxTotal && s.total > len(e.Content) {
		s.evictOldestReport()
	}
}

// evictOldestInput forgets the input whose newest report is the oldest.
func (s *lastErrorStore) evictOldestInput() {
	var victim string
	var oldest time.Time
	first := true
	for in, list := range s.byInput {
		t := list[len(list)-1].Time
		if first || t.Before(oldest) {
			victim, oldest, first = in, t, false
		}
	}
	for _, e := range s.byInput[victim] {
		s.total -= len(e.Content)
	}
	delete(s.byInput, victim)
}

// evictOldestReport forgets the oldest report of all inputs.
func (s *lastErrorStore) evictOldestReport() {
	var victim string
	var oldest time.Time
	first := true
	for in, list := range s.byInput {
		if t := list[0].Time; first || t.Before(oldest) {
			victim, oldest, first = in, t, false
		}
	}
	list := s.byInput[victim]
	s.total -= len(list[0].Content)
	if len(list) == 1 {
		delete(s.byInput, victim)
		return
	}
	copy(list, list[1:])
	list[len(list)-1] = LastError{}
	s.byInput[victim] = list[:len(list)-1]
}

// of returns a copy of input's reports, oldest first.
func (s *lastErrorStore) of(input string) []LastError {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.byInput[input]
	if len(list) == 0 {
		return nil
	}
	return append([]LastError(nil), list...)
}

// names returns the inputs with reports, sorted.
func (s *lastErrorStore) names() []string {
	s.mu.Lock()
	names := make([]string, 0, len(s.byInput))
	for in := range s.byInput {
		names = append(names, in)
	}
	s.mu.Unlock()
	sort.Strings(names)
	return names
}

// LastErrors returns the kept lasterror reports of input, oldest first: at
// most Options.LastErrorsPerInput of them, fewer once the store's bounds
// (DefaultLastErrorInputs inputs, Options.LastErrorMaxTotalBytes) made it
// forget older ones. Nil when input has none. The slice is the caller's.
func (h *Handler) LastErrors(input string) []LastError { return h.lastErrs.of(input) }

// LastErrorInputs returns the inputs that have kept lasterror reports,
// sorted, for a status page that lists them with LastErrors.
func (h *Handler) LastErrorInputs() []string { return h.lastErrs.names() }

// ReportLastError records e as if it had been posted to /v1/lasterror: it is
// stored for LastErrors and handed to Hooks.OnLastError. A zero e.Time is
// set to the current time. Hosts use it for errors of their other inputs
// (for example a Python collector supervisor), so all of them reach the same
// hook and store.
//
// A content longer than Options.LastErrorMaxBytes is truncated first, so
// the hook and the store both see the bounded report.
func (h *Handler) ReportLastError(ctx context.Context, e LastError) {
	if e.Time.IsZero() {
		e.Time = h.now()
	}
	e.truncate(h.opts.LastErrorMaxBytes)
	h.metrics.lastErrsN.Add(1)
	h.lastErrs.add(e)
	if h.opts.Hooks.OnLastError != nil {
		h.opts.Hooks.OnLastError(ctx, e)
	}
}

// serveLastError handles POST /v1/lasterror.
func (h *Handler) serveLastError(w http.ResponseWriter, r *http.Request) error {
	body, err := h.readJSONBody(w, r)
	if err != nil {
		return err
	}
	defer body.close()
	// encoding/json allocates about what it reads again.
	if err := body.lease.grow(int64(len(body.data)), "decoding the body"); err != nil {
		return err
	}
	var req struct {
		Input      string `json:"input"`
		Source     string `json:"source"`
		ErrContent string `json:"err_content"`
	}
	if err := json.Unmarshal(body.data, &req); err != nil {
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
	// Input and source are short names; keep them short.
	e := LastError{Input: clip(req.Input, maxLastErrorName), Source: clip(req.Source, maxLastErrorName), Content: req.ErrContent, Time: h.now()}
	e.truncate(h.opts.LastErrorMaxBytes)
	h.ReportLastError(r.Context(), e)
	if e.Truncated {
		return writeContent(w, LastErrorTruncated{Truncated: true, Size: e.Size, Kept: h.opts.LastErrorMaxBytes})
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// maxLastErrorName caps the input and source names of a lasterror report.
const maxLastErrorName = 256

// clip cuts s to at most n bytes at a UTF-8 boundary, copying the part kept.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n])
}

// LastErrorTruncated is the body of the 200 answer to a POST
// /v1/lasterror whose err_content was truncated, wrapped as
// {"content": LastErrorTruncated}. A report that fits is answered with an
// empty 200, as DataKit does.
type LastErrorTruncated struct {
	Truncated bool `json:"truncated"`
	Size      int  `json:"size"` // bytes of err_content as posted
	Kept      int  `json:"kept"` // at most this many were kept
}
