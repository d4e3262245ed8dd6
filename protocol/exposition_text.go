package protocol

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/collectkit/collectkit/point"
)

// The text formats (0.0.4 and OpenMetrics 1.0) are read one line at a
// time, each byte once: no step depends on how many labels came before,
// so decoding is linear in the body's size.

// textLine is the line being read.
type textLine struct {
	b    []byte
	i    int // the next byte
	line int
}

func (l *textLine) err(is error, format string, args ...any) *DecodeError {
	return &DecodeError{Line: l.line, Column: l.i + 1, Element: -1, Err: cause(is, format, args...)}
}

func (l *textLine) blanks() {
	for l.i < len(l.b) && (l.b[l.i] == ' ' || l.b[l.i] == '\t') {
		l.i++
	}
}

func (l *textLine) end() bool { return l.i >= len(l.b) }

// token returns the bytes up to the next blank or the end of the line.
func (l *textLine) token() []byte {
	s := l.i
	for l.i < len(l.b) && l.b[l.i] != ' ' && l.b[l.i] != '\t' {
		l.i++
	}
	return l.b[s:l.i]
}

func isNameStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isNameByte(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

// alias returns b as a string that shares b's memory.
func alias(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// name reads a metric name (colons allowed) or a label name, unquoted
// or in the quoted UTF-8 form, which may hold \\, \" and \n escapes.
// ok is false when nothing name-like is there.
func (l *textLine) name(metric bool) (s string, quoted bool, err *DecodeError) {
	if l.end() {
		return "", false, nil
	}
	if l.b[l.i] == '"' {
		s, err := l.quoted()
		return s, true, err
	}
	st := l.i
	if c := l.b[l.i]; !isNameStart(c) && !(metric && c == ':') {
		return "", false, nil
	}
	for l.i < len(l.b) && (isNameByte(l.b[l.i]) || metric && l.b[l.i] == ':') {
		l.i++
	}
	return alias(l.b[st:l.i]), false, nil
}

// quoted reads a string in double quotes with the escapes \\, \" and \n;
// l.i is at the opening quote. The result aliases the line unless it had
// escapes.
func (l *textLine) quoted() (string, *DecodeError) {
	open := l.i
	l.i++
	st := l.i
	esc := false
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case '"':
			raw := l.b[st:l.i]
			l.i++
			if !utf8.Valid(raw) {
				l.i = open
				return "", l.err(ErrInvalidUTF8, "quoted string is not valid UTF-8")
			}
			if !esc {
				return alias(raw), nil
			}
			return unescape(raw), nil
		case '\\':
			if l.i+1 >= len(l.b) {
				return "", l.err(ErrSyntax, "unterminated quoted string")
			}
			switch l.b[l.i+1] {
			case '\\', '"', 'n':
			default:
				return "", l.err(ErrSyntax, "invalid escape sequence \\%c (want \\\\, \\\" or \\n)", l.b[l.i+1])
			}
			esc = true
			l.i += 2
			continue
		}
		l.i++
	}
	l.i = open
	return "", l.err(ErrSyntax, "unterminated quoted string")
}

// unescape resolves \\, \" and \n, which quoted has checked.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' {
			i++
			c = raw[i]
			if c == 'n' {
				c = '\n'
			}
		}
		out = append(out, c)
	}
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// text decodes a text-format or (om) OpenMetrics body.
func (d *expoDecoder) text(body []byte, om bool) error {
	eof := false
	line := 0
	for pos := 0; pos < len(body); {
		line++
		var b []byte
		if n := bytes.IndexByte(body[pos:], '\n'); n >= 0 {
			b, pos = body[pos:pos+n], pos+n+1
		} else {
			b, pos = body[pos:], len(body)
		}
		l := textLine{b: b, line: line}
		if eof {
			return l.err(ErrSyntax, "text after # EOF")
		}
		l.blanks()
		if l.end() {
			continue
		}
		var err *DecodeError
		if l.b[l.i] == '#' {
			eof, err = d.comment(&l, om)
		} else {
			err = d.sample(&l, om)
		}
		if err != nil {
			return err
		}
	}
	if om && !eof {
		return &DecodeError{Line: line + 1, Column: 1, Element: -1, Err: cause(ErrSyntax, "OpenMetrics body does not end with # EOF")}
	}
	return nil
}

// comment reads a # line: HELP, TYPE, UNIT, OpenMetrics' EOF, or any other
// comment, which is ignored (as is a HELP or TYPE line without a name or
// without text, as prometheus/common reads them).
func (d *expoDecoder) comment(l *textLine, om bool) (eof bool, err *DecodeError) {
	l.i++
	l.blanks()
	kw := l.token()
	switch string(kw) {
	case "EOF":
		l.blanks()
		if om && l.end() {
			return true, nil
		}
		return false, nil
	case "HELP", "TYPE", "UNIT":
	default:
		return false, nil
	}
	l.blanks()
	if l.end() {
		return false, nil
	}
	name, _, err := l.name(true)
	if err != nil {
		return false, err
	}
	if name == "" {
		return false, l.err(ErrInvalidName, "invalid metric name in %s line", kw)
	}
	if l.end() {
		return false, nil
	}
	if c := l.b[l.i]; c != ' ' && c != '\t' {
		return false, l.err(ErrInvalidName, "invalid metric name in %s line", kw)
	}
	l.blanks()
	f := d.fams[name]
	if f == nil || f.sampled || kw[0] == 'T' && f.typed || kw[0] == 'H' && f.helped || kw[0] == 'U' && f.united {
		// A family seen again: node_exporter's gauge x and counter
		// x_total are both x in OpenMetrics, say.
		f = d.newFamily(name)
	}
	switch string(kw) {
	case "TYPE":
		if l.end() {
			return false, nil
		}
		text := bytes.TrimRight(l.b[l.i:], " \t")
		t, ok := parseExpoType(text)
		if !ok {
			return false, l.err(ErrSyntax, "unknown metric type %q for %q", text, shortName(name))
		}
		d.setType(f, t)
	case "UNIT":
		f.united = true
	case "HELP":
		f.helped = true
		for ; l.i < len(l.b); l.i++ {
			if l.b[l.i] == '\\' {
				if l.i+1 >= len(l.b) || (l.b[l.i+1] != '\\' && l.b[l.i+1] != 'n' && l.b[l.i+1] != '"') {
					return false, l.err(ErrSyntax, "invalid escape sequence in HELP of %q (want \\\\, \\\" or \\n)", shortName(name))
				}
				l.i++
			}
		}
	}
	d.cur = f
	return false, nil
}

// sample reads a sample line: name, labels, value, and an optional
// timestamp (and in OpenMetrics an optional exemplar, which is skipped).
func (d *expoDecoder) sample(l *textLine, om bool) *DecodeError {
	d.stats.Samples++
	if m := d.opts.MaxSamples; m > 0 && d.stats.Samples > m {
		return l.err(ErrTooManyPoints, "more than %d samples, the limit per body", m)
	}
	name, _, err := l.name(true)
	if err != nil {
		return err
	}
	if name == "" && (l.end() || l.b[l.i] != '{') {
		return l.err(ErrInvalidName, "invalid metric name")
	}
	l.blanks()
	d.labels = d.labels[:0]
	if !l.end() && l.b[l.i] == '{' {
		if err := d.labelSet(l, &name); err != nil {
			return err
		}
		l.blanks()
	}
	if l.end() {
		return l.err(ErrSyntax, "no value for %q", shortName(name))
	}
	vtext := l.token()
	v, ok := parseSampleFloat(vtext)
	if !ok {
		l.i -= len(vtext)
		return l.err(ErrSyntax, "expected a float as the value of %q, got %q", shortName(name), vtext)
	}
	t := d.now
	l.blanks()
	if !l.end() && !(om && l.b[l.i] == '#') {
		ttext := l.token()
		var tok bool
		if om {
			t, tok = parseSeconds(ttext)
		} else {
			t, tok = parseMillis(ttext)
		}
		if !tok {
			l.i -= len(ttext)
			if om {
				return l.err(ErrTimeRange, "expected a timestamp in seconds for %q, got %q", shortName(name), ttext)
			}
			return l.err(ErrTimeRange, "expected an integer timestamp in milliseconds for %q, got %q", shortName(name), ttext)
		}
		if d.opts.RejectTimestamps {
			l.i -= len(ttext)
			return l.err(ErrSampleTimestamp, "sample %q has a timestamp (%s), which is not allowed here", shortName(name), ttext)
		}
		l.blanks()
	}
	if !l.end() {
		if !om || l.b[l.i] != '#' {
			return l.err(ErrSyntax, "unexpected text after the sample %q", shortName(name))
		}
		// An OpenMetrics exemplar: " # {labels} value [timestamp]".
		l.i++
		l.blanks()
		if l.end() || l.b[l.i] != '{' {
			return l.err(ErrSyntax, "expected an exemplar's labels after #")
		}
	}
	f, k := d.sampleFamily(name)
	if k == kindNone {
		return &DecodeError{Line: l.line, Column: 1, Element: -1,
			Err: cause(ErrSyntax, "sample %q does not fit its %s family", shortName(name), f.typ)}
	}
	f.sampled = true
	d.cur = f
	if err := d.place(f, k, name, v, t); err != nil {
		return &DecodeError{Line: l.line, Column: 1, Element: -1, Err: err}
	}
	return nil
}

// place takes le and quantile out of d.labels, checks the labels and emits
// the sample. The error is a cause, for the caller to locate.
func (d *expoDecoder) place(f *expoFamily, k sampleKind, name string, v float64, t time.Time) error {
	var extraKey string
	switch f.typ {
	case typeSummary:
		extraKey = "quantile"
	case typeHistogram, typeGaugeHistogram:
		extraKey = "le"
	}
	var extra point.Tag
	if extraKey != "" {
		j := 0
		for _, lb := range d.labels {
			if lb.Key == extraKey {
				if extra.Key != "" {
					return cause(ErrSyntax, "duplicate label %q in %q", extraKey, shortName(name))
				}
				extra = lb
				continue
			}
			d.labels[j] = lb
			j++
		}
		d.labels = d.labels[:j]
	}
	if dup := d.dupLabel(d.labels); dup != "" {
		return cause(ErrSyntax, "duplicate label %q in %q", shortName(dup), shortName(name))
	}
	switch k {
	case kindQuantile, kindBucket:
		if extra.Key == "" {
			return cause(ErrSyntax, "%s sample %q has no %s label", f.typ, shortName(name), extraKey)
		}
		fv, ok := parseSampleFloat([]byte(extra.Value))
		if !ok {
			return cause(ErrSyntax, "%s label of %q is %q, not a float", extraKey, shortName(name), extra.Value)
		}
		extra = d.floatTag(extraKey, extra.Value, fv)
	default:
		extra = point.Tag{} // le or quantile on _sum, _count, _created: dropped
	}
	d.emit(f, k, d.labels, extra, v, t)
	return nil
}

// labelSet reads {...}: labels, and in the UTF-8 form the metric name as a
// quoted string without "=" (first, unless the name came before the
// brace). It checks the label limits as it goes.
func (d *expoDecoder) labelSet(l *textLine, name *string) *DecodeError {
	open := l.i
	l.i++
	lim := d.opts
	for n := 0; ; {
		l.blanks()
		if l.end() {
			return l.err(ErrSyntax, "labels of %q end without }", shortName(*name))
		}
		if l.b[l.i] == '}' {
			l.i++
			break
		}
		at := l.i
		key, quoted, err := l.name(false)
		if err != nil {
			return err
		}
		if key == "" && !quoted {
			return l.err(ErrSyntax, "invalid label name in %q", shortName(*name))
		}
		l.blanks()
		if l.end() || l.b[l.i] != '=' {
			if quoted && *name == "" && !l.end() && (l.b[l.i] == ',' || l.b[l.i] == '}') {
				if key == "" {
					l.i = at
					return l.err(ErrInvalidName, "empty metric name")
				}
				*name = key
				if l.b[l.i] == ',' {
					l.i++
				}
				continue
			}
			return l.err(ErrSyntax, "expected '=' after label name %q in %q", shortName(key), shortName(*name))
		}
		if key == "" {
			l.i = at
			return l.err(ErrSyntax, "empty label name in %q", shortName(*name))
		}
		if key == "__name__" {
			l.i = at
			return l.err(ErrSyntax, "label name \"__name__\" is reserved (in %q)", shortName(*name))
		}
		l.i++
		l.blanks()
		if l.end() || l.b[l.i] != '"' {
			return l.err(ErrSyntax, "expected '\"' to start the value of label %q in %q", shortName(key), shortName(*name))
		}
		val, err := l.quoted()
		if err != nil {
			return err
		}
		n++
		if lim.MaxLabels > 0 && n > lim.MaxLabels {
			total, _ := countLabels(l.b[open+1:])
			return &DecodeError{Line: l.line, Column: open + 1, Element: -1, Err: cause(ErrTooManyLabels,
				"sample %q has %d labels, more than the limit of %d per sample", shortName(*name), total, lim.MaxLabels)}
		}
		if lim.MaxLabelBytes > 0 && l.i-open-1 > lim.MaxLabelBytes {
			_, size := countLabels(l.b[open+1:])
			return &DecodeError{Line: l.line, Column: open + 1, Element: -1, Err: cause(ErrLabelsTooLong,
				"sample %q has %d bytes of labels, more than the limit of %d per sample", shortName(*name), size, lim.MaxLabelBytes)}
		}
		d.labels = append(d.labels, point.Tag{Key: key, Value: val})
		l.blanks()
		if l.end() {
			return l.err(ErrSyntax, "labels of %q end without }", shortName(*name))
		}
		switch l.b[l.i] {
		case ',':
			l.i++
		case '}':
		default:
			return l.err(ErrSyntax, "expected ',' or '}' after the value of label %q in %q", shortName(key), shortName(*name))
		}
	}
	if *name == "" {
		return &DecodeError{Line: l.line, Column: open + 1, Element: -1, Err: cause(ErrInvalidName, "labels without a metric name")}
	}
	if lim.MaxLabelBytes > 0 && l.i-open-2 > lim.MaxLabelBytes {
		return &DecodeError{Line: l.line, Column: open + 1, Element: -1, Err: cause(ErrLabelsTooLong,
			"sample %q has %d bytes of labels, more than the limit of %d per sample", shortName(*name), l.i-open-2, lim.MaxLabelBytes)}
	}
	return nil
}

// CountExpositionText counts, in one linear pass, the samples of a text
// or OpenMetrics body (the lines that are neither blank nor comments) and
// their labels (the '=' outside quotes between braces), without decoding
// it: what a caller needs to budget the memory of DecodeExposition before
// calling it.
func CountExpositionText(body []byte) (samples, labels int) {
	for rest := body; len(rest) > 0; {
		var l []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			l, rest = rest, nil
		}
		l = bytes.TrimLeft(l, " \t")
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		samples++
		if open := bytes.IndexByte(l, '{'); open >= 0 {
			n, _ := countLabels(l[open+1:])
			labels += n
		}
	}
	return samples, labels
}

// countLabels counts the '=' outside quoted strings in b up to the first
// '}' outside quotes, and tells how many bytes come before that brace.
func countLabels(b []byte) (n, size int) {
	in := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && in:
			i++
		case c == '"':
			in = !in
		case in:
		case c == '=':
			n++
		case c == '}':
			return n, i
		}
	}
	return n, len(b)
}

// parseSampleFloat reads a sample value as prometheus/common does: Go's
// float syntax (NaN, +Inf, -Inf, exponents) without hex floats or
// underscores.
func parseSampleFloat(b []byte) (float64, bool) {
	if len(b) == 0 || bytes.ContainsAny(b, "pP_") {
		return 0, false
	}
	v, err := parseFloatBytes(b)
	return v, err == nil
}

// parseMillis reads a text-format 0.0.4 timestamp: integer milliseconds.
func parseMillis(b []byte) (time.Time, bool) {
	ms, err := strconv.ParseInt(alias(b), 10, 64)
	if err != nil || ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

// parseSeconds reads an OpenMetrics timestamp: float seconds.
func parseSeconds(b []byte) (time.Time, bool) {
	s, ok := parseSampleFloat(b)
	if !ok || math.IsNaN(s) || s >= math.MaxInt64/1e9 || s <= math.MinInt64/1e9 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
}
