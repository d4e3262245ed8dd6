package scrape

import (
	"time"

	"github.com/collectkit/collectkit/protocol"
)

// TargetStats is the last result of one target, for status pages and
// health checks: a plain value, copied out by Scraper.Stats.
type TargetStats struct {
	// URL and Instance (the instance tag) identify the target.
	URL      string
	Instance string
	// Offset is the target's place in the interval: its scrapes start
	// when the wall clock modulo the interval equals Offset.
	Offset time.Duration

	// Up tells whether the last scrape succeeded; false before the first.
	Up bool
	// LastScrape is when the last scrape started; zero before the first.
	LastScrape time.Time
	// LastDuration is how long it took (request, body and decoding).
	LastDuration time.Duration
	// LastError is why the last scrape failed; nil when it succeeded. It
	// matches ErrStatus, ErrBodyTooLarge or wraps the request's or the
	// decoder's error (a *protocol.DecodeError).
	LastError error
	// StatusCode is the HTTP status of the last response; 0 when none
	// came.
	StatusCode int
	// Format is the exposition format of the last successful scrape.
	Format protocol.ExpositionFormat
	// Samples is the number of samples the last scrape held, as
	// scrape_samples_scraped reports it.
	Samples int
	// Points is the number of points the last scrape handed to the Sink,
	// the three the scraper adds included.
	Points int
	// SinkError is the error the Sink returned for the last scrape; nil
	// when it took the batch.
	SinkError error

	// Scrapes and Failures count the scrapes since New, and those that
	// failed; SinkErrors those whose points the Sink refused.
	Scrapes    uint64
	Failures   uint64
	SinkErrors uint64
}
