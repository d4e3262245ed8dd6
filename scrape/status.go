package scrape

import (
	"encoding/json"
	"time"
)

// Status is a snapshot of a Scraper for status pages: its name, its
// interval and the last result of every target, in the order of
// Options.Targets. It marshals to JSON with snake_case keys, durations in
// nanoseconds (keys ending in _ns) and the errors as strings.
type Status struct {
	Name     string        `json:"name"`
	Interval time.Duration `json:"interval_ns"`
	Targets  []TargetStats `json:"targets"`
}

// Status returns the scraper's state. It is safe to call at any time,
// concurrently with Run, before and after it; the slice is the caller's.
func (s *Scraper) Status() Status {
	return Status{Name: s.cfg.name, Interval: s.cfg.interval, Targets: s.Stats()}
}

// MarshalJSON encodes every field under its name, with LastError and
// SinkError as their messages (left out when nil), since an error value
// has no JSON form of its own.
func (s TargetStats) MarshalJSON() ([]byte, error) {
	type plain TargetStats // without this method
	return json.Marshal(struct {
		plain
		LastError string `json:"last_error,omitempty"`
		SinkError string `json:"sink_error,omitempty"`
	}{plain(s), errString(s.LastError), errString(s.SinkError)})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
