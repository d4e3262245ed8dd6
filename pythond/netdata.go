package pythond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond/internal/netdata"
	"github.com/collectkit/collectkit/pythond/internal/netdataconf"
	"github.com/collectkit/collectkit/pythond/internal/wire"
)

// The netdata room: Netdata python.d modules run unchanged by collectkit's
// runtime (py/runtime/run_netdata.py, sys.path folder py/netdata). Dirs
// hold the <module>.chart.py files; their jobs are resolved on the Go side
// (internal/netdataconf) into the jobs file the runner reads at each
// start. The runner sends each job update as plugins.d text (P frames),
// which one chart engine per process (internal/netdata) turns into
// metric points, and each job's state changes (J frames), which are kept
// (Supervisor.NetdataJobs) and logged.

// NetdataOptions are the options of framework netdata; UpdateEvery and
// DimensionIDs are options of netdata-plugin too.
type NetdataOptions struct {
	// ConfDir is where <module>.conf and python.d.conf are looked up
	// first (before the module's own dir), like Netdata's user config
	// directory for python.d.
	ConfDir string `toml:"conf_dir"`
	// Modules, when not empty, are the only modules run (by name, such as
	// "example"); otherwise every module found runs, minus those
	// python.d.conf disables and those disabled by default.
	Modules []string `toml:"modules"`
	// UpdateEvery is the minimum update_every in seconds, like
	// python.d.plugin's argument; for netdata-plugin it is the plugin's
	// first argument and NETDATA_UPDATE_EVERY. Zero means 1.
	UpdateEvery int `toml:"update_every"`
	// DimensionIDs names fields by dimension id instead of dimension name.
	DimensionIDs bool `toml:"dimension_ids"`
}

var netdataRoom = room{
	name:     "netdata",
	options:  []string{"conf_dir", "modules", "update_every", "dimension_ids"},
	set:      netdataSet,
	validate: validateNetdata,
	resolve:  resolveNetdata,
	start:    startNetdata,
}

// netdataSet returns the netdata options in sets.
func netdataSet(in *Input) []string {
	var keys []string
	if in.ConfDir != "" {
		keys = append(keys, "conf_dir")
	}
	if len(in.Modules) > 0 {
		keys = append(keys, "modules")
	}
	if in.UpdateEvery != 0 {
		keys = append(keys, "update_every")
	}
	if in.DimensionIDs {
		keys = append(keys, "dimension_ids")
	}
	return keys
}

func validateNetdata(in *Input, bad badFunc) {
	if in.UpdateEvery < 0 {
		bad("update_every", "update_every %d is negative", in.UpdateEvery)
	}
	for i, m := range in.Modules {
		if m == "" || strings.ContainsAny(m, "/\\\x00") {
			bad(fmt.Sprintf("modules[%d]", i), "%q is not a module name", m)
		}
	}
	if strings.ContainsRune(in.ConfDir, 0) {
		bad("conf_dir", "conf_dir contains a NUL byte")
	}
}

// updateEvery is the minimum update_every, at least 1.
func (o NetdataOptions) updateEvery() int { return max(o.UpdateEvery, 1) }

// netdataRunner is the netdata runner, relative to the installed Python
// directory; it puts py/netdata (bases, third_party) on sys.path itself.
const netdataRunner = "runtime/run_netdata.py"

func resolveNetdata(s *Supervisor, in *resolvedInput, prefix string) error {
	if in.jobs == nil { // resolved again: NetdataJobs may be reading it
		in.jobs = &netdataJobs{}
	}
	if in.ConfDir == "" {
		return nil
	}
	dir := in.ConfDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.root, dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return &ConfigError{Key: prefix + ".conf_dir", Err: fmt.Errorf("%w: %s is not a directory", ErrInvalidConfig, dir)}
	}
	in.confDir = dir
	return nil
}

func startNetdata(ctx context.Context, s *Supervisor, in *resolvedInput, pyDir string) (*launch, error) {
	jobs, err := netdataconf.Resolve(netdataconf.Options{
		ModuleDirs:     in.dirs,
		ConfDir:        in.confDir,
		Modules:        in.Modules,
		UpdateEveryMin: in.updateEvery(),
		UpdateEvery:    in.updateEvery(),
	})
	if jobs == nil {
		return nil, fmt.Errorf("netdata configuration: %w", err)
	}
	if err != nil {
		// A bad conf file drops its module, a bad job itself; the rest run.
		for _, e := range flattenErrors(err) {
			var ce *netdataconf.Error
			module := ""
			if errors.As(e, &ce) {
				module = ce.Module
			}
			in.logger.Error("netdata job not run", "module", module, "err", e)
			s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: module, Kind: KindInit, Message: e.Error()})
		}
	}
	for _, m := range jobs.Disabled {
		in.logger.Info("netdata module disabled by python.d.conf", "module", m)
	}
	dir := filepath.Join(s.stateDir, "pythond", "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the jobs file: %w", err)
	}
	f, err := os.CreateTemp(dir, "netdata-jobs-*.json")
	if err != nil {
		return nil, fmt.Errorf("creating the jobs file: %w", err)
	}
	_, werr := jobs.WriteTo(f)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("writing the jobs file: %w", err)
	}
	engine := netdata.New(netdata.Options{
		DimensionIDs: in.DimensionIDs,
		Logger:       in.logger,
		OnError: func(err error) {
			in.logger.Warn("bad plugins.d line from the netdata runner", "err", err)
		},
	})
	var pts []point.Point
	plugins := func(ctx context.Context, meta, payload []byte) {
		now := time.Now()
		pts = pts[:0]
		for len(payload) > 0 {
			line := payload
			if i := slices.Index(payload, '\n'); i >= 0 {
				line, payload = payload[:i+1], payload[i+1:]
			} else {
				payload = nil
			}
			var err error
			if pts, err = engine.Feed(pts, line, now); err != nil {
				in.logger.Warn("bad plugins.d line from the netdata runner", "job", string(meta), "err", err)
			}
		}
		job := string(meta)
		in.jobs.updated(job, now, len(pts))
		in.unit.updated(job, now)
		_ = s.deliver(ctx, in, job, point.Metric, pts)
		clear(pts)
	}
	args := []string{
		filepath.Join(pyDir, filepath.FromSlash(netdataRunner)),
		"--name", in.Name,
		"--jobs-file", f.Name(),
		"--update-every", strconv.Itoa(in.updateEvery()),
	}
	return &launch{
		Args:    args,
		Channel: true,
		Frames: map[byte]func(context.Context, []byte, []byte){
			wire.KindPlugins: plugins,
			wire.KindJob:     func(ctx context.Context, meta, payload []byte) { in.jobs.state(ctx, in, meta, payload) },
		},
		Close: func() { os.Remove(f.Name()) },
	}, nil
}

// NetdataJob is the state of one job of a netdata input, as its runner
// last reported it, with what its updates gave.
type NetdataJob struct {
	// Module and Job are the module and job name; Name is the job's full
	// name, the type of its charts (example_Two_Lines).
	Module, Job, Name string
	// State is active, recovering, failed, rejected or stopped.
	State string
	// Error is the job's last error, if any.
	Error string
	// Since is when State was reported.
	Since time.Time
	// LastUpdate is the time of the job's last update; Updates and Points
	// count its updates and the points they gave, over restarts.
	LastUpdate      time.Time
	Updates, Points int
}

// netdataJobs holds the jobs of one netdata input.
type netdataJobs struct {
	mu   sync.Mutex
	jobs map[string]*NetdataJob
	list []string // names in first-seen order
}

func (j *netdataJobs) get(name string) *NetdataJob {
	if j.jobs == nil {
		j.jobs = map[string]*NetdataJob{}
	}
	job, ok := j.jobs[name]
	if !ok {
		job = &NetdataJob{Name: name}
		j.jobs[name] = job
		j.list = append(j.list, name)
	}
	return job
}

func (j *netdataJobs) updated(name string, now time.Time, points int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job := j.get(name)
	job.LastUpdate = now
	job.Updates++
	job.Points += points
}

// jobRecord is the payload of a J frame.
type jobRecord struct {
	Module string `json:"module"`
	Job    string `json:"job"`
	Name   string `json:"name"`
	State  string `json:"state"`
	Error  string `json:"error"`
}

func (j *netdataJobs) state(ctx context.Context, in *resolvedInput, meta, payload []byte) {
	var rec jobRecord
	if err := json.Unmarshal(payload, &rec); err != nil {
		in.logger.Warn("malformed job state from the netdata runner", "err", err)
		return
	}
	name := rec.Name
	if name == "" {
		name = string(meta)
	}
	j.mu.Lock()
	job := j.get(name)
	changed := job.State != rec.State || job.Error != rec.Error
	job.Module, job.Job, job.State, job.Error, job.Since = rec.Module, rec.Job, rec.State, rec.Error, time.Now()
	j.mu.Unlock()
	if !changed {
		return
	}
	attrs := []any{"module", rec.Module, "job", rec.Job, "name", name, "state", rec.State}
	if rec.Error != "" {
		attrs = append(attrs, "err", rec.Error)
	}
	switch rec.State {
	case "failed", "rejected":
		in.logger.Error("netdata job "+rec.State, attrs...)
	case "recovering":
		in.logger.Warn("netdata job "+rec.State, attrs...)
	default:
		in.logger.Info("netdata job "+rec.State, attrs...)
	}
}

func (j *netdataJobs) snapshot() []NetdataJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]NetdataJob, 0, len(j.list))
	for _, name := range j.list {
		out = append(out, *j.jobs[name])
	}
	return out
}

// NetdataJobs returns the jobs of the netdata input named input, in the
// order they were first reported, or nil when there is no such input.
// It is safe to call while Run runs.
func (s *Supervisor) NetdataJobs(input string) []NetdataJob {
	for _, in := range s.inputs {
		if in.Name == input && in.jobs != nil {
			return in.jobs.snapshot()
		}
	}
	return nil
}

// flattenErrors unwraps errors.Join trees into their leaves.
func flattenErrors(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range u.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}
