package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point/pointtest"
)

func TestEmbeddedWriteAPI(t *testing.T) {
	app, err := newApp(nil)
	require.NoError(t, err)
	srv := httptest.NewServer(app)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/hello")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello from the application\n", string(body))

	resp, err = http.Post(srv.URL+"/datakit/v1/write/metric", "", strings.NewReader("cpu,host=a usage=1.5,n=2i\ncpu,host=b usage=2.5\n"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(srv.URL + "/datakit/v1/ping")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "embed-example/1.0", resp.Header.Get("X-DataKit"))

	resp, err = http.Get(srv.URL + "/stats")
	require.NoError(t, err)
	var stats []struct {
		Measurement string             `json:"measurement"`
		Category    string             `json:"category"`
		Points      int                `json:"points"`
		Last        map[string]float64 `json:"last"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&stats))
	resp.Body.Close()
	require.Len(t, stats, 1)
	assert.Equal(t, "cpu", stats[0].Measurement)
	assert.Equal(t, "metric", stats[0].Category)
	assert.Equal(t, 2, stats[0].Points)
	assert.Equal(t, map[string]float64{"usage": 2.5, "n": 2}, stats[0].Last)
}

func TestCounterHonoursTheSinkContract(t *testing.T) {
	pointtest.TestSink(t, newCounter(), nil)
}
