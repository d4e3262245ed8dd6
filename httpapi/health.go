package httpapi

import (
	"encoding/json"
	"net/http"
	"time"
)

// Health is the body of GET /health: InfluxDB 2's health check, which
// InfluxDB clients and load balancers probe.
type Health struct {
	Name    string   `json:"name"`    // "collectkit"
	Message string   `json:"message"` // "ready for queries and writes"
	Status  string   `json:"status"`  // "pass"
	Checks  []string `json:"checks"`  // always empty
	Version string   `json:"version"` // Options.Version
	Commit  string   `json:"commit"`  // always empty
}

// serveHealth answers GET /health: the process is up and serving. It is
// public, like the ping routes; readiness to take writes is /ready.
func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, Health{
		Name:    "collectkit",
		Message: "ready for queries and writes",
		Status:  "pass",
		Checks:  []string{},
		Version: h.opts.Version,
	})
}

// Readiness is the body of GET /ready. Status is "ready" (200) or "not
// ready" (503, with Message saying why, from Hooks.Ready); Started and Up
// are when the Handler was built and how long ago, as InfluxDB 2's /ready
// reports them.
type Readiness struct {
	Status  string    `json:"status"`
	Message string    `json:"message,omitempty"`
	Started time.Time `json:"started"`
	Up      string    `json:"up"`
}

// serveReady answers GET /ready from Hooks.Ready.
func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) error {
	now := h.now()
	res := Readiness{Status: "ready", Started: h.start, Up: now.Sub(h.start).String()}
	status := http.StatusOK
	if h.opts.Hooks.Ready != nil {
		if err := h.opts.Hooks.Ready(r.Context()); err != nil {
			res.Status, res.Message = "not ready", excerpt(err.Error())
			status = http.StatusServiceUnavailable
		}
	}
	return writeJSON(w, status, res)
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}
