package datakit

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/collectkit/collectkit/point"
)

func TestDescribe(t *testing.T) {
	w := point.Warning{Code: point.WarnInvalidFieldValueType, Key: "s", Message: "metric field has a string value; field dropped"}
	assert.Equal(t, `invalid_field_value_type: field "s": metric field has a string value; field dropped (line 3)`, DescribeWarning(w, "line 3"))
	assert.Equal(t, "no_field: fixed", DescribeWarning(point.Warning{Code: point.WarnNoField}, ""))
	assert.Equal(t, `key_conflict: key "a": key is both a tag and a field (point 1)`, DescribeRejection("key_conflict", "a", "key is both a tag and a field", "point 1"))
	assert.Equal(t, "no_field: point rejected", DescribeRejection("no_field", "", "", ""))
}

func TestReasons(t *testing.T) {
	var warns []point.Warning
	for i := range 5 {
		warns = append(warns, point.Warning{Code: point.WarnNilField, Point: i, Key: "f", Message: "field has no value; field dropped"},
			point.Warning{Code: point.WarnNoField, Point: i, Message: "point has no fields; point dropped"})
	}
	where := func(j int) string { return "point " + strconv.Itoa(warns[j].Point) }
	got := Reasons(warns, where, nil)
	assert.Equal(t, []string{
		`nil_field: field "f": field has no value; field dropped (point 0)`,
		`nil_field: field "f": field has no value; field dropped (point 1)`,
		`nil_field: field "f": field has no value; field dropped (point 2)`,
		"and 2 more",
	}, got, "no_field follows from the others and is not counted")
	assert.Equal(t, []string{"no_field: point has no fields; point dropped"}, Reasons(warns[1:2], nil, nil),
		"no_field alone is listed")
	assert.Equal(t, "none of the 5 points is left after checking: a; b", NoPoints(5, []string{"a", "b"}))
	assert.Equal(t, "the batch has no points", NoPoints(0, nil))
}
