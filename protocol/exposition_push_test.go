package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

func TestParsePushPath(t *testing.T) {
	good := []struct {
		path string
		want []point.Tag
	}{
		{"/metrics/job/batch", []point.Tag{{Key: "job", Value: "batch"}}},
		{"/metrics/job/batch/", []point.Tag{{Key: "job", Value: "batch"}}},
		// As prometheus_client 0.16 writes them: quote_plus, base64 for a
		// value with "/", "=" for the empty value, UTF-8 label names.
		{"/metrics/job/a+b%21/instance@base64/aG9zdC8x/empty@base64/=/n%C3%A4me/v",
			[]point.Tag{{Key: "job", Value: "a b!"}, {Key: "instance", Value: "host/1"}, {Key: "empty", Value: ""}, {Key: "näme", Value: "v"}}},
		{"/metrics/job@base64/am9i", []point.Tag{{Key: "job", Value: "job"}}},
	}
	for _, g := range good {
		key, err := protocol.ParsePushPath(g.path)
		require.NoError(t, err, g.path)
		assert.Equal(t, g.want, key, g.path)
	}
	bad := map[string]string{
		"/metrics/":                     "odd number of segments",
		"/other/job/x":                  "want /metrics/job/<job>",
		"/metrics/instance/x":           "want /metrics/job/<job>",
		"/metrics/job":                  "the job name is empty",
		"/metrics/job@base64/=":         "the job name is empty",
		"/metrics/job/j/instance":       "odd number of segments",
		"/metrics/job/j/a@base64/a*b":   "base64 value",
		"/metrics/job/j/a/%ff":          "not valid UTF-8",
		"/metrics/job/j/a/%zz":          `value "%zz" of label "a"`,
		"/metrics/job/j/__name__/x":     `"__name__" is not a label name`,
		"/metrics/job/j/a/1/a/2":        `label "a" appears twice`,
		"/metrics/job/j/%ff/x":          "is not a label name",
		"/metrics/job/j/%2F%zz/x":       "label name",
		"/metrics/job/j/job/again":      `label "job" appears twice`,
		"/metrics/job/j/@base64/x":      "base64 value",
		"/metrics/job/j/a@base64/%zz":   "base64 value",
		"/metrics/job/j/b@base64/AAA*A": "base64 value",
	}
	for path, want := range bad {
		_, err := protocol.ParsePushPath(path)
		require.Error(t, err, path)
		assert.ErrorIs(t, err, protocol.ErrPushPath, path)
		assert.Contains(t, err.Error(), want, path)
		assert.Contains(t, err.Error(), path, "the error names the path")
	}
}

func TestCountExpositionText(t *testing.T) {
	body := []byte("# HELP g a gauge\n# TYPE g gauge\ng{a=\"x=y\",b=\"2\"} 1\n\n  h 2\nc{a=\"\\\"}\",} 3\n# EOF\n")
	samples, labels := protocol.CountExpositionText(body)
	assert.Equal(t, 3, samples)
	assert.Equal(t, 3, labels, "an '=' or '}' inside a quoted value is no label")
	pts, st, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{Format: protocol.ExpositionOpenMetrics})
	require.NoError(t, err)
	assert.Equal(t, samples, st.Samples)
	assert.Len(t, pts, 3)
}
