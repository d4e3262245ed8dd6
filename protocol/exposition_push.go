package protocol

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/collectkit/collectkit/point"
)

// ErrPushPath is matched by the errors of ParsePushPath.
var ErrPushPath = errors.New("invalid Pushgateway path")

// ParsePushPath parses the escaped path of a push to a Pushgateway,
// "/metrics/job/<job>{/<label>/<value>}", into its grouping key: job
// first, then the labels in path order. A name ending in "@base64"
// carries its value in RFC 4648 URL-safe base64, padding optional, "="
// alone being the empty value; any other value is %-decoded with '+' as
// a space, as Python's prometheus_client writes it with quote_plus. The
// key is what ExpositionOptions.Tags (with TagsOverride) takes to map the
// push's body as the Pushgateway groups it.
//
// An error matches ErrPushPath and says what is wrong: a path not under
// /metrics/job, an empty job, an odd number of segments, a bad escape
// or base64 value, a value that is not UTF-8, a name that is not a
// label name (any non-empty UTF-8, as the Pushgateway and Prometheus 3
// take them, but not starting with "__"), a label given twice.
func ParsePushPath(escapedPath string) ([]point.Tag, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrPushPath, escapedPath, fmt.Sprintf(format, args...))
	}
	rest, ok := strings.CutPrefix(escapedPath, "/metrics/")
	if !ok {
		return nil, bad("want /metrics/job/<job>{/<label>/<value>}")
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(segs)%2 != 0 {
		if len(segs) == 1 && segs[0] == "job" {
			return nil, bad("the job name is empty")
		}
		return nil, bad("odd number of segments: want job/<job>{/<label>/<value>}")
	}
	key := make([]point.Tag, 0, len(segs)/2)
	for i := 0; i < len(segs); i += 2 {
		name, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, bad("label name %q: %v", segs[i], err)
		}
		var value string
		if base, ok := strings.CutSuffix(name, "@base64"); ok {
			name = base
			raw, err := url.PathUnescape(segs[i+1])
			if err == nil {
				var b []byte
				b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
				value = string(b)
			}
			if err != nil {
				return nil, bad("base64 value %q of label %q: %v", segs[i+1], name, err)
			}
		} else if value, err = url.QueryUnescape(segs[i+1]); err != nil {
			return nil, bad("value %q of label %q: %v", segs[i+1], name, err)
		}
		switch {
		case i == 0 && name != "job":
			return nil, bad("want /metrics/job/<job>{/<label>/<value>}")
		case i == 0 && value == "":
			return nil, bad("the job name is empty")
		case !utf8.ValidString(value):
			return nil, bad("value of label %q is not valid UTF-8", name)
		case name == "" || !utf8.ValidString(name) || strings.HasPrefix(name, "__"):
			return nil, bad("%q is not a label name", name)
		}
		for _, t := range key {
			if t.Key == name {
				return nil, bad("label %q appears twice", name)
			}
		}
		key = append(key, point.Tag{Key: name, Value: value})
	}
	return key, nil
}
