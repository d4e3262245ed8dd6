package collectd

import (
	"errors"
	"fmt"
	"math"

	"github.com/collectkit/collectkit/point"
)

// AppendPoints appends one point per value list (category metric) to dst
// and returns the extended slice.
//
// The point's measurement is the plugin; its tags are host,
// plugin_instance, type and type_instance (empty ones omitted), in that
// (sorted) order; its fields are one per data source, named by vl.DSNames
// or, when that is nil, by the data set of vl.Type in db, in data source
// order. A field's kind follows its Value's Type: gauge is a float, derive
// an int, counter and absolute a uint. A NaN gauge (collectd's "unknown")
// gives no field, and a value list left with no field gives no point. The
// point's time is the value list's; a zero time stays zero.
//
// A value list whose type is unknown (no DSNames and not in db), or whose
// value count does not match its names, is skipped with an error naming
// its identifier; the others are appended. The returned error joins those
// errors. The points alias vl's strings.
func AppendPoints(dst []point.Point, db *TypesDB, vls ...ValueList) ([]point.Point, error) {
	// One backing array for all tags and one for all fields: two
	// allocations a call instead of two a point. Each point's slices are
	// capped, so appending to one never writes into the next.
	nv := 0
	for i := range vls {
		nv += len(vls[i].Values)
	}
	s := slabs{tags: make([]point.Tag, 0, 4*len(vls)), fields: make([]point.Field, 0, nv)}
	var errs []error
	for i := range vls {
		vl := &vls[i]
		names := vl.DSNames
		if names == nil {
			ds, ok := db.DataSet(vl.Type)
			if !ok {
				errs = append(errs, fmt.Errorf("collectd: value list %s: type %q not in types.db", vl.Identifier(), vl.Type))
				continue
			}
			if len(ds.Sources) != len(vl.Values) {
				errs = append(errs, fmt.Errorf("collectd: value list %s: type %q has %d data sources, got %d values",
					vl.Identifier(), vl.Type, len(ds.Sources), len(vl.Values)))
				continue
			}
			start := len(s.fields)
			for j, v := range vl.Values {
				s.fields = appendField(s.fields, ds.Sources[j].Name, v)
			}
			dst = s.appendPoint(dst, vl, start)
			continue
		}
		if len(names) != len(vl.Values) {
			errs = append(errs, fmt.Errorf("collectd: value list %s: %d data source names, %d values",
				vl.Identifier(), len(names), len(vl.Values)))
			continue
		}
		start := len(s.fields)
		for j, v := range vl.Values {
			s.fields = appendField(s.fields, names[j], v)
		}
		dst = s.appendPoint(dst, vl, start)
	}
	return dst, errors.Join(errs...)
}

type slabs struct {
	tags   []point.Tag
	fields []point.Field
}

// appendPoint appends vl's point whose fields are s.fields[start:].
func (s *slabs) appendPoint(dst []point.Point, vl *ValueList, start int) []point.Point {
	end := len(s.fields)
	if end == start {
		return dst
	}
	t0 := len(s.tags)
	s.tags = appendTags(s.tags, vl.Host, vl.PluginInstance, vl.Type, vl.TypeInstance)
	t1 := len(s.tags)
	var tags []point.Tag
	if t1 > t0 {
		tags = s.tags[t0:t1:t1]
	}
	return append(dst, point.Point{
		Name:   vl.Plugin,
		Tags:   tags,
		Fields: s.fields[start:end:end],
		Time:   vl.Time,
	})
}

func appendField(fields []point.Field, name string, v Value) []point.Field {
	var pv point.Value
	switch v.Type {
	case Gauge:
		if math.IsNaN(v.F) {
			return fields
		}
		pv = point.FloatValue(v.F)
	case Derive:
		pv = point.IntValue(v.I)
	case Counter, Absolute:
		pv = point.UintValue(v.U)
	default:
		return fields
	}
	return append(fields, point.Field{Key: name, Value: pv})
}

// appendTags appends the identifier tags, empty ones omitted, sorted by
// key.
func appendTags(t []point.Tag, host, pluginInstance, typ, typeInstance string) []point.Tag {
	if host != "" {
		t = append(t, point.Tag{Key: "host", Value: host})
	}
	if pluginInstance != "" {
		t = append(t, point.Tag{Key: "plugin_instance", Value: pluginInstance})
	}
	if typ != "" {
		t = append(t, point.Tag{Key: "type", Value: typ})
	}
	if typeInstance != "" {
		t = append(t, point.Tag{Key: "type_instance", Value: typeInstance})
	}
	return t
}

// NotificationPoint returns n as a point of category keyevent:
// measurement = plugin, the same tags as a value list's, and fields
// df_status (failure "error", warning "warning", okay "ok", any other
// severity "info"), df_message and df_title (both the message) and
// df_source "system". The time is n's.
func NotificationPoint(n Notification) point.Point {
	status := "info"
	switch n.Severity {
	case Failure:
		status = "error"
	case Warning:
		status = "warning"
	case Okay:
		status = "ok"
	}
	return point.Point{
		Name: n.Plugin,
		Tags: appendTags(make([]point.Tag, 0, 4), n.Host, n.PluginInstance, n.Type, n.TypeInstance),
		Fields: []point.Field{
			{Key: "df_status", Value: point.StringValue(status)},
			{Key: "df_message", Value: point.StringValue(n.Message)},
			{Key: "df_title", Value: point.StringValue(n.Message)},
			{Key: "df_source", Value: point.StringValue("system")},
		},
		Time: n.Time,
	}
}
