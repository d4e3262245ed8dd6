package collectd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSONError is an error in a write_http JSON body.
type JSONError struct {
	// Index is the 0-based index of the array element; -1 when the error
	// concerns the body as a whole.
	Index int
	// Key is the object key concerned ("values", "dstypes[1]",
	// "labels.alertname", ...), if any.
	Key string
	Err error
}

// Error formats e as `collectd: JSON element 2, key "values[1]": cause`.
func (e *JSONError) Error() string {
	var b strings.Builder
	b.WriteString("collectd: JSON ")
	if e.Index < 0 {
		b.WriteString("body")
	} else {
		b.WriteString("element ")
		b.WriteString(strconv.Itoa(e.Index))
	}
	if e.Key != "" {
		b.WriteString(", key ")
		b.WriteString(strconv.Quote(e.Key))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *JSONError) Unwrap() error { return e.Err }

const (
	// maxJSONDepth bounds the nesting of a write_http body; collectd's own
	// bodies nest three deep (array, object, values or meta).
	maxJSONDepth = 16
	// maxJSONErrors bounds how many element errors DecodeJSON reports.
	maxJSONErrors = 10
)

// DecodeJSON decodes a body that collectd's write_http plugin sends with
// Format "JSON": an array whose elements are value lists or, with
// Notifications true, notifications.
//
// A value list element has "values", "dstypes", "dsnames", "time" and
// "interval" (seconds), "host", "plugin", "plugin_instance", "type",
// "type_instance" and optional "meta", which is ignored. A null value is a
// NaN gauge (collectd's "unknown"). With StoreRates true, write_http sends
// rates for derive, counter and absolute sources: a non-integer number in
// such a position becomes a gauge value, and null a NaN gauge.
//
// A notification element is what write_http sends for one, shaped like an
// Alertmanager alert: "labels" (alertname "collectd_<plugin>_<type>",
// instance = host, severity, service, and the instances: a label named
// after the plugin holding the plugin instance and, when both instances
// are set, a label "type" holding the type instance), "annotations"
// (summary = the message, the rest meta data, ignored) and "startsAt".
// collectd's format loses information there: a single instance is always
// decoded as the plugin instance, and without any instance the plugin and
// type names are split at the first underscore after "collectd_".
//
// An element that cannot be decoded is skipped and reported as a
// *JSONError naming its index and key; the others are returned. The
// returned error joins at most ten such errors (and says how many more
// there were). A body that is not a JSON array, or nests deeper than 16,
// yields no value lists and a *JSONError with Index -1. The results do not
// alias body.
func DecodeJSON(body []byte) ([]ValueList, []Notification, error) {
	if err := checkJSONDepth(body, maxJSONDepth); err != nil {
		return nil, nil, &JSONError{Index: -1, Err: err}
	}
	elems, err := splitJSONArray(body)
	if err != nil {
		return nil, nil, &JSONError{Index: -1, Err: jsonCause(err, "want an array of value lists and notifications")}
	}
	var (
		vls    []ValueList
		notifs []Notification
		errs   []error
		more   int
	)
	fail := func(err error) {
		if len(errs) < maxJSONErrors {
			errs = append(errs, err)
		} else {
			more++
		}
	}
	// full counts an error without building it once enough are kept, so
	// that a body of a million bad elements costs no million errors.
	full := func() bool {
		if len(errs) < maxJSONErrors {
			return false
		}
		more++
		return true
	}
	var obj jsonElement // one for all elements: it escapes to the heap
	for i, raw := range elems {
		obj = jsonElement{}
		if len(raw) == 0 || raw[0] != '{' {
			if !full() {
				fail(&JSONError{Index: i, Err: fmt.Errorf("want an object, got %s", jsonKind(raw))})
			}
			continue
		}
		// An object shorter than {"values":1} has neither key; the body
		// is valid JSON already, so it needs no decoding to say so.
		if len(raw) < len(`{"values":1}`) {
			if !full() {
				fail(&JSONError{Index: i, Err: errors.New(`neither a value list (no key "values") nor a notification (no key "labels")`)})
			}
			continue
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			fail(&JSONError{Index: i, Err: jsonCause(err, "want an object")})
			continue
		}
		if obj.Values != nil {
			vl, err := decodeJSONValueList(i, &obj)
			if err != nil {
				fail(err)
				continue
			}
			vls = append(vls, vl)
			continue
		}
		if obj.Labels != nil {
			n, err := decodeJSONNotification(i, &obj)
			if err != nil {
				fail(err)
				continue
			}
			notifs = append(notifs, n)
			continue
		}
		if !full() {
			fail(&JSONError{Index: i, Err: errors.New(`neither a value list (no key "values") nor a notification (no key "labels")`)})
		}
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("collectd: JSON: %d more elements had errors", more))
	}
	return vls, notifs, errors.Join(errs...)
}

// jsonElement is a value list or a notification, its members kept raw so
// that errors can name them. A member present in the body is non-nil (null
// is "null").
type jsonElement struct {
	Values         json.RawMessage `json:"values"`
	DSTypes        json.RawMessage `json:"dstypes"`
	DSNames        json.RawMessage `json:"dsnames"`
	Time           json.RawMessage `json:"time"`
	Interval       json.RawMessage `json:"interval"`
	Host           json.RawMessage `json:"host"`
	Plugin         json.RawMessage `json:"plugin"`
	PluginInstance json.RawMessage `json:"plugin_instance"`
	Type           json.RawMessage `json:"type"`
	TypeInstance   json.RawMessage `json:"type_instance"`
	Labels         json.RawMessage `json:"labels"`
	Annotations    json.RawMessage `json:"annotations"`
	StartsAt       json.RawMessage `json:"startsAt"`
}

func decodeJSONValueList(i int, obj *jsonElement) (ValueList, error) {
	var vl ValueList
	for _, f := range [...]struct {
		key string
		raw json.RawMessage
		dst *string
	}{
		{"host", obj.Host, &vl.Host}, {"plugin", obj.Plugin, &vl.Plugin}, {"plugin_instance", obj.PluginInstance, &vl.PluginInstance},
		{"type", obj.Type, &vl.Type}, {"type_instance", obj.TypeInstance, &vl.TypeInstance},
	} {
		if err := jsonString(f.raw, f.dst); err != nil {
			return vl, &JSONError{Index: i, Key: f.key, Err: err}
		}
	}
	var values []json.RawMessage
	if err := json.Unmarshal(obj.Values, &values); err != nil {
		return vl, &JSONError{Index: i, Key: "values", Err: jsonCause(err, "want an array")}
	}
	var dstypes []string
	if raw := obj.DSTypes; raw == nil {
		return vl, &JSONError{Index: i, Key: "dstypes", Err: errors.New("missing (the data source types of the values)")}
	} else if err := json.Unmarshal(raw, &dstypes); err != nil {
		return vl, &JSONError{Index: i, Key: "dstypes", Err: jsonCause(err, "want an array of strings")}
	}
	if len(dstypes) != len(values) {
		return vl, &JSONError{Index: i, Key: "dstypes", Err: fmt.Errorf("%d types for %d values", len(dstypes), len(values))}
	}
	if raw := obj.DSNames; raw != nil && string(raw) != "null" {
		if err := json.Unmarshal(raw, &vl.DSNames); err != nil {
			return vl, &JSONError{Index: i, Key: "dsnames", Err: jsonCause(err, "want an array of strings")}
		}
		if len(vl.DSNames) != len(values) {
			return vl, &JSONError{Index: i, Key: "dsnames", Err: fmt.Errorf("%d names for %d values", len(vl.DSNames), len(values))}
		}
		if vl.DSNames == nil {
			vl.DSNames = []string{}
		}
	}
	vl.Values = make([]Value, len(values))
	for j, raw := range values {
		t, err := ParseDSType(dstypes[j])
		if err != nil {
			return vl, &JSONError{Index: i, Key: "dstypes[" + strconv.Itoa(j) + "]", Err: err}
		}
		v, err := jsonValue(raw, t)
		if err != nil {
			return vl, &JSONError{Index: i, Key: "values[" + strconv.Itoa(j) + "]", Err: err}
		}
		vl.Values[j] = v
	}
	if raw := obj.Time; raw != nil && string(raw) != "null" {
		sec, nsec, err := jsonSeconds(raw)
		if err != nil {
			return vl, &JSONError{Index: i, Key: "time", Err: err}
		}
		vl.Time = time.Unix(sec, nsec)
	}
	if raw := obj.Interval; raw != nil && string(raw) != "null" {
		sec, nsec, err := jsonSeconds(raw)
		if err != nil {
			return vl, &JSONError{Index: i, Key: "interval", Err: err}
		}
		if sec > math.MaxInt64/int64(time.Second)-1 {
			return vl, &JSONError{Index: i, Key: "interval", Err: fmt.Errorf("%s seconds is too long", raw)}
		}
		vl.Interval = time.Duration(sec)*time.Second + time.Duration(nsec)
	}
	return vl, nil
}

func jsonValue(raw json.RawMessage, t DSType) (Value, error) {
	s := string(raw)
	if s == "null" {
		return GaugeValue(math.NaN()), nil
	}
	if s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return Value{}, fmt.Errorf("want a number or null, got %s", jsonKind(raw))
	}
	switch t {
	case Derive:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return DeriveValue(i), nil
		} else if isJSONInteger(s) {
			return Value{}, fmt.Errorf("derive value %s out of range", s)
		}
	case Counter, Absolute:
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return Value{Type: t, U: u}, nil
		} else if isJSONInteger(s) {
			return Value{}, fmt.Errorf("%s value %s out of range", t, s)
		}
	}
	// A gauge, or a rate that write_http computed for a cumulative source.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return Value{}, fmt.Errorf("bad number %s", s)
	}
	return GaugeValue(f), nil
}

func isJSONInteger(s string) bool { return !strings.ContainsAny(s, ".eE") }

// jsonSeconds parses a non-negative number of seconds exactly when it is
// written in plain decimals (as collectd writes "%.3f").
func jsonSeconds(raw json.RawMessage) (sec, nsec int64, err error) {
	s := string(raw)
	if s == "" || s[0] < '0' || s[0] > '9' {
		if s != "" && s[0] == '-' {
			return 0, 0, fmt.Errorf("negative seconds %s", s)
		}
		return 0, 0, fmt.Errorf("want a number of seconds, got %s", jsonKind(raw))
	}
	const maxSec = 1 << 40 // beyond year 36000: no collectd time
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f >= maxSec {
			return 0, 0, fmt.Errorf("seconds %s out of range", s)
		}
		whole := math.Floor(f)
		sec, nsec = int64(whole), int64(math.Round((f-whole)*1e9))
		if nsec >= 1e9 {
			sec, nsec = sec+1, nsec-1e9
		}
		return sec, nsec, nil
	}
	intPart, frac, _ := strings.Cut(s, ".")
	sec, err = strconv.ParseInt(intPart, 10, 64)
	if err != nil || sec >= maxSec {
		return 0, 0, fmt.Errorf("seconds %s out of range", s)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	for k := 0; k < 9; k++ {
		nsec *= 10
		if k < len(frac) {
			nsec += int64(frac[k] - '0')
		}
	}
	return sec, nsec, nil
}

func jsonString(raw json.RawMessage, dst *string) error {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	// Most strings have no escapes: no need for encoding/json.
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		*dst = string(raw[1 : len(raw)-1])
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("want a string, got %s", jsonKind(raw))
	}
	return nil
}

// Labels write_http sets on every notification; any other label is named
// after the plugin.
var notificationLabels = map[string]bool{"alertname": true, "instance": true, "severity": true, "service": true, "type": true}

func decodeJSONNotification(i int, obj *jsonElement) (Notification, error) {
	var n Notification
	var labels map[string]string
	if err := json.Unmarshal(obj.Labels, &labels); err != nil {
		return n, &JSONError{Index: i, Key: "labels", Err: jsonCause(err, "want an object of strings")}
	}
	alert, ok := labels["alertname"]
	if !ok {
		return n, &JSONError{Index: i, Key: "labels.alertname", Err: errors.New("missing")}
	}
	rest, ok := strings.CutPrefix(alert, "collectd_")
	if !ok {
		return n, &JSONError{Index: i, Key: "labels.alertname", Err: fmt.Errorf("%q does not start with collectd_", alert)}
	}
	n.Host = labels["instance"]
	var pluginKeys []string
	for k := range labels {
		if !notificationLabels[k] {
			pluginKeys = append(pluginKeys, k)
		}
	}
	switch len(pluginKeys) {
	case 0:
		n.Plugin, n.Type, _ = strings.Cut(rest, "_")
		n.TypeInstance = labels["type"]
	case 1:
		n.Plugin = pluginKeys[0]
		typ, ok := strings.CutPrefix(rest, n.Plugin+"_")
		if !ok {
			return n, &JSONError{Index: i, Key: "labels.alertname", Err: fmt.Errorf("%q does not name the plugin of label %q", alert, n.Plugin)}
		}
		n.Type = typ
		n.PluginInstance = labels[n.Plugin]
		n.TypeInstance = labels["type"]
	default:
		sort.Strings(pluginKeys)
		return n, &JSONError{Index: i, Key: "labels", Err: fmt.Errorf("labels %q: at most one label may name the plugin", pluginKeys)}
	}
	switch labels["severity"] {
	case "FAILURE":
		n.Severity = Failure
	case "WARNING":
		n.Severity = Warning
	case "OKAY":
		n.Severity = Okay
	}
	if raw := obj.Annotations; raw != nil && string(raw) != "null" {
		var ann map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ann); err != nil {
			return n, &JSONError{Index: i, Key: "annotations", Err: jsonCause(err, "want an object")}
		}
		if err := jsonString(ann["summary"], &n.Message); err != nil {
			return n, &JSONError{Index: i, Key: "annotations.summary", Err: err}
		}
	}
	if raw := obj.StartsAt; raw != nil && string(raw) != "null" {
		var s string
		if err := jsonString(raw, &s); err != nil {
			return n, &JSONError{Index: i, Key: "startsAt", Err: err}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return n, &JSONError{Index: i, Key: "startsAt", Err: fmt.Errorf("%q is not an RFC 3339 time", s)}
		}
		n.Time = t
	}
	return n, nil
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonCause turns encoding/json's type errors into "want ..., got ..." and
// keeps syntax errors (which give the byte offset) as they are.
func jsonCause(err error, want string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Errorf("%s: %s is %s", want, te.Field, te.Value)
		}
		return fmt.Errorf("%s, got %s", want, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v (at byte %d)", se, se.Offset)
	}
	return err
}

// checkJSONDepth rejects a body whose arrays and objects nest deeper than
// max, before encoding/json spends work and memory on it.
func checkJSONDepth(b []byte, max int) (err error) {
	scanJSON(b, func(i, depth int, c byte) bool {
		if depth > max {
			err = fmt.Errorf("nested deeper than %d (at byte %d)", max, i)
			return false
		}
		return true
	})
	return err
}

// scanJSON calls visit with the offset of each bracket, brace and comma
// of b outside strings and the nesting depth after it, until visit
// returns false.
func scanJSON(b []byte, visit func(i, depth int, c byte) bool) {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
		default:
			continue
		}
		if !visit(i, depth, c) {
			return
		}
	}
}

// splitJSONArray returns the elements of a JSON array body, aliasing it:
// encoding/json would copy each element and grow its slice as it goes,
// which for a body of a million tiny elements costs a hundred times the
// body. An invalid body or one that is not an array gives encoding/json's
// own error, which it finds before decoding anything.
func splitJSONArray(b []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(b)
	if !json.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '[' {
		var elems []json.RawMessage
		return nil, json.Unmarshal(b, &elems)
	}
	inner := trimmed[1 : len(trimmed)-1]
	if len(bytes.TrimSpace(inner)) == 0 {
		return nil, nil
	}
	n := 1
	walkJSONTop(inner, func(int) { n++ })
	elems := make([]json.RawMessage, 0, n)
	start := 0
	walkJSONTop(inner, func(comma int) {
		elems = append(elems, bytes.TrimSpace(inner[start:comma]))
		start = comma + 1
	})
	return append(elems, bytes.TrimSpace(inner[start:])), nil
}

// walkJSONTop calls comma with the offset of each comma of b (valid JSON
// array contents) that separates two elements.
func walkJSONTop(b []byte, comma func(int)) {
	scanJSON(b, func(i, depth int, c byte) bool {
		if c == ',' && depth == 0 {
			comma(i)
		}
		return true
	})
}
