package collectd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Value is one value of a value list: a tagged union whose Type says which
// of F, I and U holds it.
type Value struct {
	Type DSType
	F    float64 // Gauge
	I    int64   // Derive
	U    uint64  // Counter, Absolute
}

// GaugeValue returns a gauge value.
func GaugeValue(f float64) Value { return Value{Type: Gauge, F: f} }

// DeriveValue returns a derive value.
func DeriveValue(i int64) Value { return Value{Type: Derive, I: i} }

// CounterValue returns a counter value.
func CounterValue(u uint64) Value { return Value{Type: Counter, U: u} }

// AbsoluteValue returns an absolute value.
func AbsoluteValue(u uint64) Value { return Value{Type: Absolute, U: u} }

// String formats v as its number followed by its type, e.g. "1.5 gauge".
func (v Value) String() string {
	switch v.Type {
	case Gauge:
		return strconv.FormatFloat(v.F, 'g', -1, 64) + " gauge"
	case Derive:
		return strconv.FormatInt(v.I, 10) + " derive"
	case Counter, Absolute:
		return strconv.FormatUint(v.U, 10) + " " + v.Type.String()
	}
	return v.Type.String()
}

// ValueList is one dispatched value list: an identifier (host, plugin,
// plugin instance, type, type instance), a time, an interval and one value
// per data source of its type.
type ValueList struct {
	Host, Plugin, PluginInstance, Type, TypeInstance string
	Time                                             time.Time
	Interval                                         time.Duration
	Values                                           []Value
	// DSNames are the data source names when the sender gave them
	// (write_http JSON); nil means: take them from the TypesDB.
	DSNames []string
}

// Identifier returns vl's identifier as collectd writes it:
// host/plugin[-plugin_instance]/type[-type_instance].
func (vl *ValueList) Identifier() string {
	return identifier(vl.Host, vl.Plugin, vl.PluginInstance, vl.Type, vl.TypeInstance)
}

func identifier(host, plugin, pluginInstance, typ, typeInstance string) string {
	var b strings.Builder
	b.Grow(len(host) + len(plugin) + len(pluginInstance) + len(typ) + len(typeInstance) + 4)
	b.WriteString(host)
	b.WriteByte('/')
	b.WriteString(plugin)
	if pluginInstance != "" {
		b.WriteByte('-')
		b.WriteString(pluginInstance)
	}
	b.WriteByte('/')
	b.WriteString(typ)
	if typeInstance != "" {
		b.WriteByte('-')
		b.WriteString(typeInstance)
	}
	return b.String()
}

// Severity is a notification's severity, with collectd's codes.
type Severity int

// collectd's notification severities (NOTIF_FAILURE, NOTIF_WARNING,
// NOTIF_OKAY). The zero Severity is none of them.
const (
	Failure Severity = 1
	Warning Severity = 2
	Okay    Severity = 4
)

// String returns "failure", "warning", "okay", or "severity(N)" for another
// value.
func (s Severity) String() string {
	switch s {
	case Failure:
		return "failure"
	case Warning:
		return "warning"
	case Okay:
		return "okay"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// ParseSeverity parses "failure", "warning" or "okay", case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range [...]Severity{Failure, Warning, Okay} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("collectd: unknown severity %q (want failure, warning or okay)", s)
}

// MarshalText returns s's String form.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses text as ParseSeverity does.
func (s *Severity) UnmarshalText(text []byte) error {
	v, err := ParseSeverity(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Notification is one dispatched notification.
type Notification struct {
	Host, Plugin, PluginInstance, Type, TypeInstance string
	Time                                             time.Time
	Severity                                         Severity
	Message                                          string
}

// Identifier returns n's identifier as collectd writes it:
// host/plugin[-plugin_instance]/type[-type_instance].
func (n *Notification) Identifier() string {
	return identifier(n.Host, n.Plugin, n.PluginInstance, n.Type, n.TypeInstance)
}
