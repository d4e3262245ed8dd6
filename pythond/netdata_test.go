package pythond

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// seedWeatherOneChart is seed 001's weather station module as the
// tutorial's "current source code" gives it, unmodified.
const seedWeatherOneChart = `# -*- coding: utf-8 -*-
# Description: howto weather station netdata python.d module
# Author: Panagiotis Papaioannou (papajohn-uop)
# SPDX-License-Identifier: GPL-3.0-or-later

from bases.FrameworkServices.SimpleService import SimpleService

import random

NETDATA_UPDATE_EVERY=1
priority = 90000

ORDER = [
    "temp_current"
]

CHARTS = {
    "temp_current": {
        "options": ["my_temp", "Temperature", "Celsius", "TEMP", "weather_station.temperature", "line"],
        "lines": [
            ["current_temperature"]
        ]
     }
}

class Service(SimpleService):
    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS
        #values to show at graphs
        self.values=dict()

    @staticmethod
    def check():
        return True

    weather_data=dict()
    weather_metrics=[
                  "temp","av_temp","min_temp","max_temp",
                  "humid","av_humid","min_humid","max_humid",
                  "pressure","av_pressure","min_pressure","max_pressure",
                  ]

    def logMe(self,msg):
        self.debug(msg)

    def populate_data(self):
        for metric in self.weather_metrics:
            self.weather_data[metric]=random.randint(0,100)

    def get_data(self):
        #The data dict is basically all the values to be represented
        # The entries are in the format: { "dimension": value}
        #And each "dimension" should belong to a chart.
        data = dict()

        self.populate_data()

        data['current_temperature'] = self.weather_data["temp"]

        return data
`

// seedWeatherTwoCharts is the same module after the tutorial's "Add more
// charts" step: its CHARTS, ORDER and get_data lines for humidity.
var seedWeatherTwoCharts = strings.NewReplacer(
	`ORDER = [
    "temp_current"
]`, `ORDER = [
    'temp_current',
    'humid_current'
]`,
	`CHARTS = {
    "temp_current": {
        "options": ["my_temp", "Temperature", "Celsius", "TEMP", "weather_station.temperature", "line"],
        "lines": [
            ["current_temperature"]
        ]
     }
}`, `CHARTS = {
    'temp_current': {
        'options': ['my_temp', 'Temperature', 'Celsius', 'TEMP', 'weather_station.temperature', 'line'],
        'lines': [
            ['current_temperature']
        ]
     },
    'humid_current': {
        'options': ['my_humid', 'Humidity', '%', 'HUMIDITY', 'weather_station.humidity', 'line'],
        'lines': [
            ['current_humidity']
        ]
     }
}`,
	`        data['current_temperature'] = self.weather_data["temp"]
`, `        data['current_temperature'] = self.weather_data["temp"]
        data['current_humidity'] = self.weather_data["humid"]
`).Replace(seedWeatherOneChart)

// seedWeatherURL is the weather station collector on UrlService, as the
// tutorial describes it (its data fetched over HTTP): the two-chart
// module's CHARTS and ORDER, the framework class reference's UrlService
// __init__ and the _get_data pattern of its "Parse the data" section.
var seedWeatherURL = `# -*- coding: utf-8 -*-
# Description: howto weather station netdata python.d module, over HTTP

import json

from bases.FrameworkServices.UrlService import UrlService

ORDER = [
    'temp_current',
    'humid_current'
]

CHARTS = {
    'temp_current': {
        'options': ['my_temp', 'Temperature', 'Celsius', 'TEMP', 'weather_station.temperature', 'line'],
        'lines': [
            ['current_temperature']
        ]
     },
    'humid_current': {
        'options': ['my_humid', 'Humidity', '%', 'HUMIDITY', 'weather_station.humidity', 'line'],
        'lines': [
            ['current_humidity']
        ]
     }
}


class Service(UrlService):
    def __init__(self, configuration=None, name=None):
        UrlService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS
        self.url = '{0}://{1}:{2}/weather'.format(
            configuration.get('scheme', 'http'),
            configuration.get('host', '127.0.0.1'),
            configuration.get('port', 15672),
        )

    def _get_data(self):
        try:
            raw = json.loads(self._get_raw_data())
            return {'current_temperature': raw['temp'], 'current_humidity': raw['humid']}
        except (ValueError, AttributeError, TypeError):
            return None
`

// pointsByName groups points by measurement, keeping the first few.
func pointsByName(pts []point.Point) map[string][]point.Point {
	out := map[string][]point.Point{}
	for _, p := range pts {
		out[p.Name] = append(out[p.Name], p)
	}
	return out
}

func tagMap(p point.Point) map[string]string {
	m := map[string]string{}
	for _, t := range p.Tags {
		m[t.Key] = t.Value
	}
	return m
}

func fieldKeys(p point.Point) []string {
	var keys []string
	for _, f := range p.Fields {
		keys = append(keys, f.Key)
	}
	sort.Strings(keys)
	return keys
}

// waitNames waits until points of every measurement in names arrived.
func (h *harness) waitNames(names []string, timeout time.Duration) map[string][]point.Point {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		by := pointsByName(h.rec.Points())
		missing := false
		for _, n := range names {
			if len(by[n]) == 0 {
				missing = true
			}
		}
		if !missing {
			return by
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no points for all of %v; got %d points\nlogs:\n%s", names, h.rec.Len(), h.logs.dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetdataSeedWeather runs seed 001's weather station modules
// unchanged under framework netdata and checks their points exactly.
func TestNetdataSeedWeather(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		module string
		charts map[string]string // measurement -> chart id
	}{
		{"one chart", seedWeatherOneChart, map[string]string{"weather_station.temperature": "weather_station.temp_current"}},
		{"two charts", seedWeatherTwoCharts, map[string]string{"weather_station.temperature": "weather_station.temp_current", "weather_station.humidity": "weather_station.humid_current"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.write("netdata/weather_station.chart.py", tc.module)
			opts := h.options(Input{Name: "netdata", Framework: FrameworkNetdata, Dirs: []string{"netdata"}, Tags: map[string]string{"site": "lab"}})
			opts.GlobalTags = map[string]string{"host": "h1"}
			h.start(opts)
			var names []string
			for n := range tc.charts {
				names = append(names, n)
			}
			by := h.waitNames(names, 20*time.Second)
			assert.Len(t, by, len(tc.charts), "only the module's charts, no runtime charts")
			for name, chart := range tc.charts {
				p := by[name][0]
				family := "TEMP"
				field := "current_temperature"
				if strings.HasSuffix(name, "humidity") {
					family, field = "HUMIDITY", "current_humidity"
				}
				assert.Equal(t, map[string]string{"job": "weather_station", "chart": chart, "family": family, "module": "weather_station", "site": "lab", "host": "h1"}, tagMap(p), name)
				require.Equal(t, []string{field}, fieldKeys(p), name)
				v, _ := p.Field(field)
				assert.Equal(t, point.KindFloat, v.Kind())
				assert.GreaterOrEqual(t, v.Float(), 0.0)
				assert.LessOrEqual(t, v.Float(), 100.0)
				assert.WithinDuration(t, time.Now(), p.Time, 30*time.Second)
			}
			for _, b := range h.rec.Batches() {
				assert.Equal(t, point.Metric, b.Category)
				assert.Equal(t, "netdata", b.Input)
			}
			jobs := waitJobs(t, h, "netdata", "weather_station")
			assert.Equal(t, "active", jobs.State)
			assert.Equal(t, "weather_station", jobs.Module)
		})
	}
}

// waitJobs waits for the job named name of input to have updates.
func waitJobs(t *testing.T, h *harness, input, name string) NetdataJob {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, j := range h.sup.NetdataJobs(input) {
			if j.Name == name && j.Updates > 0 && j.State != "" {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s of %s: %+v\n%s", name, input, h.sup.NetdataJobs(input), h.logs.dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetdataSeedWeatherURL runs the UrlService weather station against a
// loopback fixture, with a YAML job naming the port.
func TestNetdataSeedWeatherURL(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/weather" {
			http.NotFound(w, r)
			return
		}
		i := n.Add(1)
		fmt.Fprintf(w, `{"temp": %d, "humid": %d}`, 20+i%3, 60-i%5)
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	h := newHarness(t)
	h.write("netdata/weather_station.chart.py", seedWeatherURL)
	h.write("netdata/weather_station.conf", "local:\n  name: 'Greece lab'\n  port: "+u.Port()+"\n")
	h.start(h.options(Input{Name: "netdata", Framework: FrameworkNetdata, Dirs: []string{"netdata"}}))
	by := h.waitNames([]string{"weather_station.temperature", "weather_station.humidity"}, 20*time.Second)
	temp := by["weather_station.temperature"][0]
	assert.Equal(t, map[string]string{"job": "Greece_lab", "chart": "weather_station_Greece_lab.temp_current", "family": "TEMP", "module": "weather_station"}, tagMap(temp))
	v, ok := temp.Field("current_temperature")
	require.True(t, ok)
	assert.Contains(t, []float64{20, 21, 22}, v.Float())
	hum := by["weather_station.humidity"][0]
	v, ok = hum.Field("current_humidity")
	require.True(t, ok)
	assert.Contains(t, []float64{56, 57, 58, 59, 60}, v.Float())
	assert.Positive(t, n.Load())
	job := waitJobs(t, h, "netdata", "weather_station_Greece_lab")
	assert.Equal(t, "active", job.State)
	assert.Equal(t, "local", job.Job)
}

// TestNetdataPluginReal runs the real python.d.plugin of Debian's
// netdata-plugins-python on its stock example module.
func TestNetdataPluginReal(t *testing.T) {
	t.Parallel()
	const plugin = "/usr/lib/netdata/plugins.d/python.d.plugin"
	if _, err := os.Stat(plugin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: install netdata-plugins-python", plugin)
		}
		t.Skipf("%s is missing: install netdata-plugins-python", plugin)
	}
	if _, err := os.Stat("/usr/lib/netdata/python.d/example.chart.py"); err != nil {
		t.Skip("the stock example module is missing: install netdata-plugins-python")
	}
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	h := newHarness(t)
	// The stock python.d.conf disables example; a user one enables it.
	etc := h.write("etc/python.d.conf", "example: yes\n")
	h.start(h.options(Input{
		Name:                 "pyd",
		Framework:            FrameworkNetdataPlugin,
		Cmd:                  plugin,
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{"1", "example"}},
		Envs:                 []string{"NETDATA_USER_CONFIG_DIR=" + strings.TrimSuffix(etc, "/python.d.conf")},
	}))
	// The stock example.conf has one job, four_lines, named "Four Lines";
	// its chart's context is "random".
	by := h.waitNames([]string{"random"}, 30*time.Second)
	p := by["random"][0]
	assert.Equal(t, map[string]string{"job": "Four_Lines", "chart": "example_Four_Lines.random", "family": "random", "module": "example"}, tagMap(p))
	assert.Equal(t, []string{"random0", "random1", "random2", "random3"}, fieldKeys(p))
	for _, f := range p.Fields {
		assert.Equal(t, point.KindFloat, f.Value.Kind())
	}
	for name := range by {
		assert.False(t, strings.HasPrefix(name, "netdata."), "no runtime charts: %s", name)
	}
	assert.Empty(t, h.errs.kind(KindStart))
}

// ownPlugin is an external plugin in sh: it logs its NETDATA_* variables
// to stderr and prints one chart on stdout.
const ownPlugin = `#!/bin/sh
echo "env every=$NETDATA_UPDATE_EVERY internals=$NETDATA_INTERNALS_MONITORING lib=${NETDATA_LIB_DIR:+set} user=$NETDATA_USER_CONFIG_DIR args=$*" >&2
echo 'CHART my.chart "" "My chart" "units" fam my.ctx line 1000 1'
echo 'DIMENSION a alpha absolute 1 1'
echo 'DIMENSION b "" absolute -1 10'
i=1
while [ $i -le 100 ]; do
  echo "BEGIN my.chart"
  echo "SET a = $i"
  echo "SET b = 25"
  echo "END"
  i=$((i+1))
  sleep 0.1
done
`

// TestNetdataPluginOwn runs a plugin of the user's own: arguments, the
// NETDATA_* environment (Envs win), stderr to the log, fields by name or
// by id.
func TestNetdataPluginOwn(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	for _, ids := range []bool{false, true} {
		t.Run(fmt.Sprintf("dimension_ids=%v", ids), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			cmd := h.write("plugins/my.plugin", ownPlugin)
			require.NoError(t, os.Chmod(cmd, 0o755))
			opts := h.options(Input{
				Name:                 "mine",
				Framework:            FrameworkNetdataPlugin,
				Cmd:                  cmd,
				NetdataOptions:       NetdataOptions{UpdateEvery: 2, DimensionIDs: ids},
				NetdataPluginOptions: NetdataPluginOptions{Args: []string{"2", "extra"}},
				Envs:                 []string{"NETDATA_USER_CONFIG_DIR=/nonexistent"},
				Tags:                 map[string]string{"site": "lab"},
			})
			h.start(opts)
			by := h.waitNames([]string{"my.ctx"}, 10*time.Second)
			p := by["my.ctx"][0]
			assert.Equal(t, map[string]string{"job": "my", "chart": "my.chart", "family": "fam", "module": "my", "site": "lab"}, tagMap(p))
			a, b := "alpha", "b"
			if ids {
				a = "a"
			}
			assert.Equal(t, []string{a, b}, fieldKeys(p))
			v, _ := p.Field(a)
			assert.Equal(t, 1.0, v.Float(), "the first update")
			v, _ = p.Field(b)
			assert.Equal(t, -2.5, v.Float(), "multiplier and divisor")
			env := h.logs.waitLog(t, "env every=", 1, 5*time.Second)
			assert.Equal(t, "env every=2 internals=NO lib=set user=/nonexistent args=2 extra", env[0].Message)
		})
	}
}

// TestNetdataJobStates checks that failed jobs and a conf file that does
// not parse are logged and reported while the good module runs.
func TestNetdataJobStates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("netdata/weather_station.chart.py", seedWeatherOneChart)
	h.write("netdata/broken.chart.py", `from bases.FrameworkServices.SimpleService import SimpleService


class Service(SimpleService):
    def check(self):
        raise RuntimeError("no station here")
`)
	h.write("netdata/badconf.chart.py", seedWeatherOneChart)
	h.write("netdata/badconf.conf", "job: [unclosed\n")
	h.start(h.options(Input{Name: "netdata", Framework: FrameworkNetdata, Dirs: []string{"netdata"}}))
	h.waitNames([]string{"weather_station.temperature"}, 20*time.Second)
	failed := h.logs.waitLog(t, "netdata job failed", 1, 10*time.Second)
	assert.Equal(t, "broken", failed[0].Attrs["module"])
	assert.Contains(t, failed[0].Attrs["err"], "no station here")
	inits := h.errs.wait(t, KindInit, 1, 5*time.Second)
	assert.Equal(t, "badconf", inits[0].Collector)
	assert.Contains(t, inits[0].Message, "badconf.conf")
	var states []string
	for _, j := range h.sup.NetdataJobs("netdata") {
		states = append(states, j.Module+"="+j.State)
	}
	assert.Contains(t, states, "broken=failed")
	assert.Contains(t, states, "weather_station=active")
	assert.Nil(t, h.sup.NetdataJobs("nosuch"))

	// Status counts each job's updates as its runs.
	st := waitStatus(t, h.sup, "netdata", "an update", func(in InputStatus) bool {
		return len(in.Collectors) > 0 && in.Points > 0
	})
	assert.Equal(t, "netdata", st.Framework)
	assert.Equal(t, "weather_station", st.Collectors[0].Name)
	assert.Positive(t, st.Collectors[0].Runs)
	assert.False(t, st.Collectors[0].LastRun.IsZero())
}

// TestNetdataSysPath checks that a python.d module sees bases and
// third_party but neither the DataKit framework nor the runtime.
func TestNetdataSysPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("netdata/iso.chart.py", `import importlib

from bases.FrameworkServices.SimpleService import SimpleService

NAMES = ['bases', 'third_party', 'datakit_framework', '_collectkit_channel',
         '_collectkit_loader', '_collectkit_scheduler', 'run_datakit']
ORDER = ['imports']
CHARTS = {'imports': {'options': [None, 'Imports', 'ok', 'iso', 'iso.imports', 'line'],
                      'lines': [[n] for n in NAMES]}}


class Service(SimpleService):
    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS

    def get_data(self):
        data = {}
        for n in NAMES:
            try:
                importlib.import_module(n)
                data[n] = 1
            except ImportError:
                data[n] = 0
        return data
`)
	h.start(h.options(Input{Name: "netdata", Framework: FrameworkNetdata, Dirs: []string{"netdata"}}))
	p := h.waitNames([]string{"iso.imports"}, 20*time.Second)["iso.imports"][0]
	got := map[string]float64{}
	for _, f := range p.Fields {
		got[f.Key] = f.Value.Float()
	}
	assert.Equal(t, map[string]float64{"bases": 1, "third_party": 1, "datakit_framework": 0, "_collectkit_channel": 0,
		"_collectkit_loader": 0, "_collectkit_scheduler": 0, "run_datakit": 0}, got)
}

// TestNetdataBothRooms runs Debian's stock example module, in place,
// under framework netdata (our runtime) and under framework
// netdata-plugin (the real python.d.plugin): the same charts give points
// with the same measurement, tags and fields.
func TestNetdataBothRooms(t *testing.T) {
	t.Parallel()
	const (
		plugin  = "/usr/lib/netdata/plugins.d/python.d.plugin"
		modules = "/usr/lib/netdata/python.d"
		stock   = "/usr/lib/netdata/conf.d/python.d"
	)
	for _, p := range []string{plugin, modules + "/example.chart.py", stock + "/example.conf", "/usr/bin/python3"} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: install netdata-plugins-python", p)
			}
			t.Skipf("%s is missing: install netdata-plugins-python", p)
		}
	}
	h := newHarness(t)
	// Both read the stock example.conf; a python.d.conf of our own turns
	// the module on (the stock one turns it off).
	etc := h.write("etc/python.d.conf", "example: yes\n")
	etcDir := strings.TrimSuffix(etc, "/python.d.conf")
	require.NoError(t, os.Symlink(stock, etcDir+"/python.d"))
	h.start(h.options(
		Input{Name: "ours", Framework: FrameworkNetdata, Cmd: "/usr/bin/python3", Dirs: []string{modules},
			NetdataOptions: NetdataOptions{ConfDir: etcDir + "/python.d", Modules: []string{"example"}}},
		Input{Name: "real", Framework: FrameworkNetdataPlugin, Cmd: plugin,
			NetdataPluginOptions: NetdataPluginOptions{Args: []string{"1", "example"}},
			Envs:                 []string{"NETDATA_USER_CONFIG_DIR=" + etcDir}},
	))
	deadline := time.Now().Add(30 * time.Second)
	var ours, real []point.Point
	for time.Now().Before(deadline) && (len(ours) == 0 || len(real) == 0) {
		ours, real = nil, nil
		for _, b := range h.rec.Batches() {
			switch b.Input {
			case "ours":
				ours = append(ours, b.Points...)
			case "real":
				real = append(real, b.Points...)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NotEmpty(t, ours, h.logs.dump())
	require.NotEmpty(t, real, h.logs.dump())
	shape := func(p point.Point) string {
		return fmt.Sprintf("%s %v %v", p.Name, tagMap(p), fieldKeys(p))
	}
	assert.Equal(t, shape(real[0]), shape(ours[0]))
	assert.Equal(t, "random map[chart:example_Four_Lines.random family:random job:Four_Lines module:example] [random0 random1 random2 random3]", shape(ours[0]))
}
