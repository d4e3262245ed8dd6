package protocol

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
)

// ExpositionFormat is a Prometheus exposition format: what an exporter
// serves and what a Pushgateway receives.
type ExpositionFormat uint8

const (
	// ExpositionText is the text format 0.0.4 (Content-Type text/plain;
	// version=0.0.4), the zero value.
	ExpositionText ExpositionFormat = iota
	// ExpositionOpenMetrics is OpenMetrics text 1.0 (Content-Type
	// application/openmetrics-text), which must end with "# EOF".
	ExpositionOpenMetrics
	// ExpositionProtobuf is a sequence of varint-length-delimited
	// io.prometheus.client.MetricFamily messages (Content-Type
	// application/vnd.google.protobuf;
	// proto=io.prometheus.client.MetricFamily; encoding=delimited).
	ExpositionProtobuf
)

var expositionFormatNames = [...]string{"text", "openmetrics", "protobuf"}

// String returns "text", "openmetrics" or "protobuf", and
// "ExpositionFormat(N)" for a value out of range.
func (f ExpositionFormat) String() string {
	if int(f) < len(expositionFormatNames) {
		return expositionFormatNames[f]
	}
	return fmt.Sprintf("ExpositionFormat(%d)", f)
}

// MarshalText returns the String form; a value out of range is an error.
func (f ExpositionFormat) MarshalText() ([]byte, error) {
	if int(f) >= len(expositionFormatNames) {
		return nil, fmt.Errorf("protocol: invalid exposition format %d", f)
	}
	return []byte(expositionFormatNames[f]), nil
}

// UnmarshalText reads what MarshalText writes.
func (f *ExpositionFormat) UnmarshalText(text []byte) error {
	for i, n := range expositionFormatNames {
		if string(text) == n {
			*f = ExpositionFormat(i)
			return nil
		}
	}
	return fmt.Errorf("protocol: unknown exposition format %q (want text, openmetrics or protobuf)", text)
}

// ExpositionFormatOf tells the format of a body from its Content-Type:
// application/openmetrics-text is ExpositionOpenMetrics,
// application/vnd.google.protobuf with proto=io.prometheus.client.MetricFamily
// and encoding=delimited is ExpositionProtobuf, and everything else
// (text/plain, an empty or unparsable type) is ExpositionText, as the
// Pushgateway and Prometheus read it.
func ExpositionFormatOf(contentType string) ExpositionFormat {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ExpositionText
	}
	switch mt {
	case "application/openmetrics-text":
		return ExpositionOpenMetrics
	case "application/vnd.google.protobuf":
		if params["proto"] == "io.prometheus.client.MetricFamily" && params["encoding"] == "delimited" {
			return ExpositionProtobuf
		}
	}
	return ExpositionText
}

// ExpositionOptions control DecodeExposition. The zero value decodes text
// format 0.0.4 at the current time, adds no tags and sets no limits.
type ExpositionOptions struct {
	// Format is the body's format; ExpositionFormatOf reads it from a
	// Content-Type.
	Format ExpositionFormat
	// Now is the time of samples without a timestamp. Zero means
	// time.Now(), taken once per call.
	Now time.Time
	// Tags are added to every point, after the sample's labels. A sample
	// label of the same name wins over a tag here (as Prometheus's
	// honor_labels: true), unless TagsOverride is set.
	Tags []point.Tag
	// TagsOverride makes Tags win over sample labels of the same name, which
	// are then dropped (the Pushgateway's grouping key, Prometheus's
	// honor_labels: false without the exported_ renaming).
	TagsOverride bool
	// RejectTimestamps makes a sample with an explicit timestamp an error
	// matching ErrSampleTimestamp, as the Pushgateway requires of pushes.
	RejectTimestamps bool
	// MaxSamples bounds the samples of one body: text lines that are
	// samples, or for protobuf what the text format would write (one per
	// counter, gauge or untyped value, quantile, bucket, sum, count and
	// created timestamp). Over it decoding stops with ErrTooManyPoints.
	// Zero or negative means no limit.
	MaxSamples int
	// MaxLabels bounds the labels of one sample (the metric name written
	// inside the braces does not count). Over it: ErrTooManyLabels. Zero
	// or negative means no limit.
	MaxLabels int
	// MaxLabelBytes bounds the bytes of one sample's labels: in text, the
	// bytes between its braces; in protobuf, the sum of its label names'
	// and values' lengths. Over it: ErrLabelsTooLong. Zero or negative
	// means no limit.
	MaxLabelBytes int
}

// ExpositionStats tells what a body held.
type ExpositionStats struct {
	// Samples is the number of samples decoded, counted as
	// ExpositionOptions.MaxSamples counts them. A summary's or histogram's
	// _sum and _count are two samples and one point.
	Samples int
	// Families is the number of metric families: distinct names of TYPE,
	// HELP or UNIT lines and of samples outside any declared family (text),
	// or messages (protobuf).
	Families int
}

// Causes carried by the DecodeError of DecodeExposition, beside ErrSyntax,
// ErrInvalidName, ErrInvalidUTF8, ErrTimeRange and ErrTooManyPoints.
var (
	// ErrTooManyLabels: a sample with more labels than
	// ExpositionOptions.MaxLabels.
	ErrTooManyLabels = errors.New("too many labels in one sample")
	// ErrLabelsTooLong: a sample whose labels take more bytes than
	// ExpositionOptions.MaxLabelBytes.
	ErrLabelsTooLong = errors.New("labels of one sample too long")
	// ErrSampleTimestamp: a sample with a timestamp while
	// ExpositionOptions.RejectTimestamps is set.
	ErrSampleTimestamp = errors.New("sample has a timestamp")
)

// DecodeExposition decodes a Prometheus exposition body and appends its
// samples as metric points to dst, returning the extended slice and what
// the body held. See the package documentation ("Prometheus exposition")
// for what each sample becomes.
//
// A bad body is a *DecodeError: for the text formats with the 1-based
// line and column of the problem (Element -1), for protobuf with the
// 0-based index of the message (Line 0) and the byte offset in the text.
// Decoding stops at the first error and then returns dst unchanged: a
// body is taken whole or not at all, as Prometheus takes a scrape.
//
// The points' strings alias body (those with escapes are copies): they
// are valid while body is not modified. Their Tags and Fields are slices
// of blocks allocated per call and shared by no other point.
// DecodeExposition holds no state; it is safe for concurrent use.
func DecodeExposition(dst []point.Point, body []byte, opts ExpositionOptions) ([]point.Point, ExpositionStats, error) {
	d := expoDecoder{opts: &opts, now: opts.Now, base: len(dst), pts: dst}
	if d.now.IsZero() {
		d.now = time.Now()
	}
	d.init()
	var err error
	switch opts.Format {
	case ExpositionText, ExpositionOpenMetrics:
		err = d.text(body, opts.Format == ExpositionOpenMetrics)
	case ExpositionProtobuf:
		err = d.protobuf(body)
	default:
		err = &DecodeError{Element: -1, Err: fmt.Errorf("unknown exposition format %d", opts.Format)}
	}
	if err != nil {
		clear(d.pts[d.base:])
		return dst[:d.base], ExpositionStats{}, err
	}
	d.fixCreated()
	return d.pts, d.stats, nil
}

// expoCause is a DecodeError cause: a message that matches a sentinel
// under errors.Is.
type expoCause struct {
	is  error
	msg string
}

func (e *expoCause) Error() string        { return e.msg }
func (e *expoCause) Is(target error) bool { return target == e.is }

func cause(is error, format string, args ...any) error {
	return &expoCause{is: is, msg: fmt.Sprintf(format, args...)}
}

// shortName is a metric name cut for an error message.
func shortName(name string) string {
	if len(name) > 64 {
		return strings.ToValidUTF8(name[:64], "") + "..."
	}
	return name
}
