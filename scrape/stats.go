package scrape

import (
	"time"

	"github.com/collectkit/collectkit/protocol"
)

// TargetStats is the last result of one target, for status pages and
// health checks: a plain value, copied out by Scraper.Stats.
type TargetStats struct {
	// URL and Instance (the instance tag) identify the target.
	URL      string `json:"url"`
	Instance string `json:"instance"`
	// Offset is the target's place in the interval: its scrapes start
	// when the wall clock modulo the interval equals Offset.
	Offset time.Duration `json:"offset_ns"`

	// Up tells whether the last scrape succeeded; false before the first.
	Up bool `json:"up"`
	// LastScrape is when the last scrape started; zero before the first.
	LastScrape time.Time `json:"last_scrape"`
	// LastDuration is how long it took (request, body and decoding).
	LastDuration time.Duration `json:"last_duration_ns"`
	// LastError is why the last scrape failed; nil when it succeeded. It
	// matches ErrStatus, ErrBodyTooLarge or wraps the request's or the
	// decoder's error (a *protocol.DecodeError).
	LastError error `json:"last_error"`
	// StatusCode is the HTTP status of the last response; 0 when none
	// came.
	StatusCode int `json:"status_code"`
	// Format is the exposition format of the last successful scrape.
	Format protocol.ExpositionFormat `json:"format"`
	// Samples is the number of samples the last scrape held, as
	// scrape_samples_scraped reports it.
	Samples int `json:"samples"`
	// Points is the number of points the last scrape handed to the Sink,
	// the three the scraper adds included.
	Points int `json:"points"`
	// SinkError is the error the Sink returned for the last scrape; nil
	// when it took the batch.
	SinkError error `json:"sink_error"`

	// Scrapes and Failures count the scrapes since New, and those that
	// failed; SinkErrors those whose points the Sink refused.
	Scrapes    uint64 `json:"scrapes"`
	Failures   uint64 `json:"failures"`
	SinkErrors uint64 `json:"sink_errors"`
}
