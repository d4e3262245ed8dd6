package pythond_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond"
)

// Status tells what each input is doing: here one input runs its
// collector, and one whose dir does not exist (yet) is broken, retried
// while the other runs.
func ExampleSupervisor_Status() {
	root, _ := os.MkdirTemp("", "python.d-")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "demo"), 0o755)
	os.WriteFile(filepath.Join(root, "demo", "demo.py"), []byte(`
from datakit_framework import DataKitFramework

class Demo(DataKitFramework):
    name = 'Demo'
    interval = 3600

    def run(self):
        self.feed_metric(measurement='demo', fields={'f': 1})
`), 0o644)

	s, err := pythond.New(pythond.Options{
		Inputs: []pythond.Input{
			{Name: "demo", Dirs: []string{"demo"}},
			{Name: "later", Dirs: []string{"not-yet"}},
		},
		Root:     root,
		Sink:     point.Discard(),
		StateDir: filepath.Join(root, ".state"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		st := s.Status()
		if len(st.Inputs[0].Collectors) > 0 && st.Inputs[0].Collectors[0].Runs == 1 {
			break
		}
	}
	for _, in := range s.Status().Inputs {
		fmt.Printf("%s: %s, %d points\n", in.Name, in.State, in.Points)
		for _, c := range in.Collectors {
			fmt.Printf("  collector %s: %d run, %d failed\n", c.Name, c.Runs, c.Failures)
		}
		if in.Problem != "" {
			fmt.Println("  problem:", strings.Contains(in.Problem, `"not-yet" does not exist`))
		}
	}
	cancel()
	<-done
	fmt.Println("after Run:", s.Status().Inputs[0].State)
	// Output:
	// demo: running, 1 points
	//   collector Demo: 1 run, 0 failed
	// later: broken, 0 points
	//   problem: true
	// after Run: stopped
}

// A Supervisor is a prometheus.Collector: register it in the host's
// registry (never the global one) to export its inputs' metrics.
func ExampleSupervisor_Collect() {
	s, err := pythond.New(pythond.Options{
		Inputs: []pythond.Input{{Name: "demo", Dirs: []string{os.TempDir()}}},
		Sink:   point.Discard(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	mfs, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mf := range mfs {
		fmt.Println(mf.GetName(), mf.GetType())
	}
	// Output:
	// collectkit_pythond_points_rejected_total COUNTER
	// collectkit_pythond_points_written_total COUNTER
	// collectkit_pythond_reports_total COUNTER
	// collectkit_pythond_restarts_total COUNTER
	// collectkit_pythond_run_duration_seconds HISTOGRAM
	// collectkit_pythond_run_failures_total COUNTER
	// collectkit_pythond_up GAUGE
}

// A pipeline parses the collectors' log lines before they are written,
// as DataKit's Pipeline scripts do.
func ExampleOptions_pipeline() {
	root, _ := os.MkdirTemp("", "python.d-")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "logs"), 0o755)
	os.WriteFile(filepath.Join(root, "logs", "logs.py"), []byte(`
from datakit_framework import DataKitFramework

class Logs(DataKitFramework):
    name = 'Logs'
    interval = 3600

    def run(self):
        self.feed_logging(source='app', message='level=warning msg=disk almost full')
`), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	sink := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		for _, f := range b.Points[0].Fields {
			fmt.Printf("%s=%s\n", f.Key, f.Value)
		}
		cancel()
		return nil
	})
	pipeline := func(_ context.Context, source string, _ point.Category, p *point.Point) (bool, error) {
		for _, f := range p.Fields {
			if f.Key != "message" {
				continue
			}
			level, msg, ok := strings.Cut(strings.TrimPrefix(f.Value.String(), "level="), " msg=")
			if !ok {
				return true, fmt.Errorf("%s: not a level=... msg=... line", source)
			}
			p.Fields = append(p.Fields, point.Field{Key: "status", Value: point.StringValue(level)}, point.Field{Key: "msg", Value: point.StringValue(msg)})
			break
		}
		return true, nil
	}
	s, err := pythond.New(pythond.Options{
		Inputs:   []pythond.Input{{Name: "logs", Dirs: []string{"logs"}}},
		Root:     root,
		Sink:     sink,
		Pipeline: pipeline,
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
	// message=level=warning msg=disk almost full
	// status=warning
	// msg=disk almost full
}
