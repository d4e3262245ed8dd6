package pythond_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond"
)

// A collector written for DataKit, run by a Supervisor whose Sink prints
// what it receives.
func Example() {
	root, _ := os.MkdirTemp("", "python.d-")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "demo"), 0o755)
	os.WriteFile(filepath.Join(root, "demo", "demo.py"), []byte(`
from datakit_framework import DataKitFramework

class Demo(DataKitFramework):
    name = 'Demo'
    interval = 10

    def run(self):
        self.feed_metric(measurement='demo', tags={'t': 'v'},
                         fields={'f': 1, 'g': 2.5}, time=1700000000)
`), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	sink := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		fmt.Println(b.Category, b.Input, b.Points[0].String())
		cancel() // one batch is enough for the example
		return nil
	})
	s, err := pythond.New(pythond.Options{
		Inputs:   []pythond.Input{{Name: "demo", Dirs: []string{"demo"}, Tags: map[string]string{"host": "web01"}}},
		Root:     root,
		Sink:     sink,
		StateDir: filepath.Join(root, ".state"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Run(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// metric Demo demo,t=v,host=web01 f=1,g=2.5 2023-11-14T22:13:20Z
}

func ExampleParseConfig() {
	cfg, err := pythond.ParseConfig([]byte(`
[[inputs.pythond]]
  name = 'some-python-inputs'
  cmd = "python3"
  dirs = ["mytest"]
  envs = ['LD_LIBRARY_PATH=/opt/lib:$LD_LIBRARY_PATH']
  restart_max = "30s"
`))
	fmt.Println(cfg.Inputs[0].Name, cfg.Inputs[0].Dirs, cfg.Inputs[0].RestartMax, err)

	_, err = pythond.ParseConfig([]byte("[[inputs.pythond]]\nname = 'x'\ndirs = ['d']\nintervals = 10\n"))
	fmt.Println(err)
	// Output:
	// some-python-inputs [mytest] 30s <nil>
	// pythond: config line 4 key inputs.pythond.intervals: invalid configuration: unknown key
}

// A Netdata python.d input and a Netdata external plugin, side by side;
// each framework's options are checked by it.
func ExampleParseConfig_frameworks() {
	cfg, err := pythond.ParseConfig([]byte(`
[[inputs.pythond]]
name      = "netdata"
framework = "netdata"
dirs      = ["netdata"]
modules   = ["example"]

[[inputs.pythond]]
name      = "python.d.plugin"
framework = "netdata-plugin"
cmd       = "/usr/lib/netdata/plugins.d/python.d.plugin"
args      = ["1", "example"]

[[inputs.pythond]]
name            = "collectd"
framework       = "collectd"
collectd_config = "collectd.conf"
interval        = "10s"
`))
	fmt.Println(err)
	for _, in := range cfg.Inputs {
		fmt.Println(in.Name, in.Framework, in.Modules, in.Args, in.CollectdConfig, time.Duration(in.Interval))
	}
	_, err = pythond.ParseConfig([]byte("[[inputs.pythond]]\nname = 'a'\ndirs = ['d']\nconf_dir = '/etc/netdata'\n"))
	fmt.Println(err)
	// Output:
	// <nil>
	// netdata netdata [example] []  0s
	// python.d.plugin netdata-plugin [] [1 example]  0s
	// collectd collectd [] [] collectd.conf 10s
	// pythond: config key inputs.pythond[0].conf_dir: invalid configuration: conf_dir is an option of framework netdata, not of datakit
}
