package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/datakit"
	"github.com/collectkit/collectkit/point"
)

// maxListed is how many warnings a log record or an error message lists.
const maxListed = datakit.MaxListed

// where tells where point i of the body came from, for messages: "line 3"
// (line protocol), "element 2" (JSON) or "point 4" (built by the route);
// elem says i is already a JSON element index.
func (spec *batchSpec) where(i int, elem bool) string {
	switch {
	case i < 0:
		return ""
	case elem:
		return "element " + strconv.Itoa(i)
	case spec.dec != nil:
		line, el := spec.dec.Source(i)
		if line > 0 {
			return "line " + strconv.Itoa(line)
		}
		if el >= 0 {
			return "element " + strconv.Itoa(el)
		}
	}
	return "point " + strconv.Itoa(i)
}

// warnAt tells where the point of warning j of the request was: the
// first elemWarns warnings came from the JSON decoder and name elements.
func (spec *batchSpec) warnAt(warns []point.Warning, j int) string {
	return spec.where(warns[j].Point, j < spec.elemWarns)
}

// describe formats warning j of warns as datakit.DescribeWarning does,
// with where its point was.
func (spec *batchSpec) describe(warns []point.Warning, j int) string {
	return datakit.DescribeWarning(warns[j], spec.warnAt(warns, j))
}

// describeReject formats a rejection as "<rule>: key \"k\": <message>
// (line 3)".
func (spec *batchSpec) describeReject(re *constraint.RejectError) string {
	return datakit.DescribeRejection(re.Rule.String(), re.Key, re.Message, spec.where(re.Point, false))
}

// why lists the first reasons why points were fixed or dropped, for a
// message or log record: the warnings, then the loose report entries.
func (spec *batchSpec) why(st *writeState) []string {
	return datakit.Reasons(st.warns, func(j int) string { return spec.warnAt(st.warns, j) }, st.report)
}

// strictErr is the answer to a strict request with warnings: 400
// datakit.pointGotWarning naming the first warning, its key and where its
// point was.
func (spec *batchSpec) strictErr(st *writeState) error {
	msg := spec.describe(st.warns, 0)
	if len(st.warns) > 1 {
		msg += fmt.Sprintf(" (and %d more warnings)", len(st.warns)-1)
	}
	return apiErr(http.StatusBadRequest, CodePointGotWarning, "%s", msg)
}

// rejectErr is the answer to a batch with a rejected point: 400
// datakit.pointRejected naming the first.
func (spec *batchSpec) rejectErr(res *constraint.Result) error {
	re := res.Rejected[0]
	msg := spec.describeReject(re)
	if len(res.Rejected) > 1 {
		msg += fmt.Sprintf(" (and %d more points rejected)", len(res.Rejected)-1)
	}
	return &Error{Status: http.StatusBadRequest, Code: CodePointRejected, Message: msg, Err: res.Err()}
}

// noPoints is the answer to a batch of n points none of which is left.
func (spec *batchSpec) noPoints(st *writeState, n int) error {
	return apiErr(http.StatusBadRequest, CodeNoPoints, "%s", datakit.NoPoints(n, spec.why(st)))
}
