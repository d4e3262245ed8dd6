package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond"
	"github.com/collectkit/collectkit/scrape"
)

// inputSpec is one input of a configuration: what it is and the value
// reloads compare to decide whether it changed.
type inputSpec struct {
	kind  string // "pythond", "prom" or "collectd_network"
	name  string
	index int // position among the inputs of its kind
	key   any // compared with reflect.DeepEqual

	pythond  *pythondSpec
	prom     *PromInput
	collectd *CollectdNetworkConfig
}

// pythondSpec is a pythond input with the settings it is resolved with.
type pythondSpec struct {
	Input    pythond.Input
	Root     string
	GitRepos string
	GitRepo  string
	Watch    bool
	Logs     pythond.CollectorLogs
}

// promSpec and collectdSpec are the compared values of the other kinds:
// relative file names depend on the base directory.
type promSpec struct {
	Input   PromInput
	BaseDir string
}

type collectdSpec struct {
	Config  CollectdNetworkConfig
	BaseDir string
}

// label names the input in logs and problems: "inputs.pythond[1] (web)".
func (s inputSpec) label() string {
	if s.kind == "collectd_network" {
		return "collectd_network"
	}
	return fmt.Sprintf("inputs.%s[%d] (%s)", s.kind, s.index, s.name)
}

// inputSpecs lists the inputs of cs.
func inputSpecs(cs *configSet) []inputSpec {
	cfg := &cs.cfg
	var specs []inputSpec
	root := resolve(cs.baseDir, cfg.PythondDir)
	gitRepos := ""
	if cfg.GitReposDir != "" {
		gitRepos = resolve(cs.baseDir, cfg.GitReposDir)
	}
	var logs pythond.CollectorLogs
	if cfg.PythondLogs.Dir != "" {
		logs = pythond.CollectorLogs{Dir: resolve(cs.baseDir, cfg.PythondLogs.Dir), MaxBytes: cfg.PythondLogs.MaxBytes, Backups: cfg.PythondLogs.Backups}
	}
	for i, in := range cfg.Inputs.Pythond {
		ps := &pythondSpec{Input: in, Root: root, GitRepos: gitRepos, GitRepo: cfg.GitRepo, Watch: cfg.watchScripts(), Logs: logs}
		specs = append(specs, inputSpec{kind: "pythond", name: in.Name, index: i, key: *ps, pythond: ps})
	}
	for i, in := range cfg.Inputs.Prom {
		name := in.Name
		if name == "" {
			name = scrape.DefaultName
		}
		specs = append(specs, inputSpec{kind: "prom", name: name, index: i, key: promSpec{in, cs.baseDir}, prom: &in})
	}
	if c := cfg.CollectdNetwork; c != nil {
		specs = append(specs, inputSpec{kind: "collectd_network", name: "collectd_network", key: collectdSpec{*c, cs.baseDir}, collectd: c})
	}
	return specs
}

// inputEnv is what every input is built with; it does not change while
// the agent runs.
type inputEnv struct {
	baseDir    string
	globalTags map[string]string
	sink       point.Sink
	logger     *slog.Logger
	handler    *httpapi.Handler
	strict     bool // -check-config: missing dirs and interpreters are errors
	// allowRemote is the top-level allow_remote, for the warning of an
	// unauthenticated collectd port.
	allowRemote bool
}

// runningInput is a started input.
type runningInput struct {
	spec   inputSpec
	sup    *pythond.Supervisor
	scr    *scrape.Scraper
	cd     *collectdNetwork
	cancel context.CancelFunc
	done   chan struct{}
}

// buildInput makes the component of one input without starting it.
func (env *inputEnv) buildInput(s inputSpec) (*runningInput, error) {
	ri := &runningInput{spec: s}
	switch s.kind {
	case "pythond":
		p := s.pythond
		sup, err := pythond.New(pythond.Options{
			Inputs:        []pythond.Input{p.Input},
			Keys:          []string{fmt.Sprintf("inputs.pythond[%d]", s.index)},
			Root:          p.Root,
			GitRepos:      p.GitRepos,
			GitRepo:       p.GitRepo,
			GlobalTags:    env.globalTags,
			Sink:          env.sink,
			Logger:        env.logger.With("component", "pythond"),
			Strict:        env.strict,
			Watch:         p.Watch,
			CollectorLogs: p.Logs,
			OnError: func(ctx context.Context, e pythond.CollectorError) {
				if env.handler != nil {
					env.handler.ReportLastError(context.WithValue(ctx, alreadyLogged{}, true), httpapi.LastError{Input: e.Input, Source: e.Collector, Content: e.Error(), Time: e.Time})
				}
			},
		})
		if err != nil {
			return nil, err
		}
		ri.sup = sup
	case "prom":
		scr, err := scrape.New(s.prom.options(env.baseDir, env.globalTags, env.sink, env.logger.With("component", "prom", "prom", s.name)))
		if err != nil {
			return nil, promConfigError(fmt.Sprintf("inputs.prom[%d]", s.index), err)
		}
		ri.scr = scr
	case "collectd_network":
		log := env.logger.With("component", "collectd_network")
		cd, err := newCollectdNetwork(s.collectd, env.baseDir, env.globalTags, env.sink, log)
		if err != nil {
			return nil, err
		}
		level := s.collectd.SecurityLevel
		if level == "" {
			level = "None"
		}
		if env.allowRemote && level == "None" {
			log.Warn(`allow_remote with security_level "None": any host that reaches the port may send`, "listen", cd.addr())
		}
		log.Info("collectd network listening", "addr", cd.addr(), "security_level", level)
		ri.cd = cd
	}
	return ri, nil
}

// start runs the input until stop.
func (ri *runningInput) start(ctx context.Context, failed func(inputSpec, error)) {
	ctx, ri.cancel = context.WithCancel(ctx)
	ri.done = make(chan struct{})
	go func() {
		defer close(ri.done)
		var err error
		switch {
		case ri.sup != nil:
			err = ri.sup.Run(ctx)
		case ri.scr != nil:
			err = ri.scr.Run(ctx)
		case ri.cd != nil:
			err = ri.cd.run(ctx)
		}
		if err != nil && ctx.Err() == nil {
			failed(ri.spec, err)
		}
	}()
}

// stop ends the input and waits for it.
func (ri *runningInput) stop() {
	ri.cancel()
	<-ri.done
}

// inputSet is the running set of inputs, replaced input by input on
// reload.
type inputSet struct {
	env *inputEnv
	ctx context.Context // the inputs' parent context

	applyMu  sync.Mutex // one apply at a time
	mu       sync.Mutex // guards running and problems
	running  []*runningInput
	problems map[string]string // input label -> why it is not running
}

func newInputSet(ctx context.Context, env *inputEnv) *inputSet {
	return &inputSet{env: env, ctx: ctx, problems: map[string]string{}}
}

// apply makes the running inputs those of specs: an input whose value is
// unchanged keeps running, the others are stopped, and the new ones built
// and started. An input that cannot be built is left out with its problem
// logged and reported; the others run.
func (set *inputSet) apply(specs []inputSpec) {
	set.applyMu.Lock()
	defer set.applyMu.Unlock()
	log := set.env.logger
	set.mu.Lock()
	used := make([]bool, len(set.running))
	var keep, drop []*runningInput
	var add []inputSpec
next:
	for _, s := range specs {
		for i, ri := range set.running {
			if !used[i] && ri.spec.kind == s.kind && reflect.DeepEqual(ri.spec.key, s.key) {
				used[i] = true
				ri.spec = s // its place in the list may have moved
				keep = append(keep, ri)
				continue next
			}
		}
		add = append(add, s)
	}
	for i, ri := range set.running {
		if !used[i] {
			drop = append(drop, ri)
		}
	}
	set.running = keep
	set.problems = map[string]string{}
	set.mu.Unlock()

	// Stopped without the lock held (a process may take its stop grace
	// to end), and before the new ones start: a changed input's new
	// process must not run beside its old one, and a UDP port must be
	// free to bind again.
	changed := map[string]bool{}
	for _, s := range add {
		changed[s.kind+"\x00"+s.name] = true
	}
	for _, ri := range drop {
		if changed[ri.spec.kind+"\x00"+ri.spec.name] {
			log.Info("input changed; restarting it", "input", ri.spec.label())
		} else {
			log.Info("input removed; stopping it", "input", ri.spec.label())
		}
		ri.stop()
	}
	for _, s := range add {
		ri, err := set.env.buildInput(s)
		if err != nil {
			set.failed(s, err)
			continue
		}
		ri.start(set.ctx, set.failed)
		set.mu.Lock()
		set.running = append(set.running, ri)
		set.mu.Unlock()
		log.Info("input started", "input", s.label())
	}
}

// failed records an input whose Run returned an error.
func (set *inputSet) failed(s inputSpec, err error) {
	set.mu.Lock()
	defer set.mu.Unlock()
	set.problemLocked(s, err)
}

func (set *inputSet) problemLocked(s inputSpec, err error) {
	msg := err.Error()
	set.problems[s.label()] = msg
	set.env.logger.Error("input not running; the others run", "input", s.label(), "problem", msg)
	if set.env.handler != nil {
		set.env.handler.ReportLastError(context.WithValue(set.ctx, alreadyLogged{}, true), httpapi.LastError{Input: s.name, Source: s.kind, Content: msg})
	}
}

// stopAll stops every input.
func (set *inputSet) stopAll() {
	set.applyMu.Lock()
	defer set.applyMu.Unlock()
	set.mu.Lock()
	running := set.running
	set.running = nil
	set.mu.Unlock()
	for _, ri := range running {
		ri.cancel()
	}
	for _, ri := range running {
		<-ri.done
	}
}

// snapshot returns the running inputs and the problems, for status and
// metrics.
func (set *inputSet) snapshot() ([]*runningInput, []string) {
	set.mu.Lock()
	defer set.mu.Unlock()
	var problems []string
	for label, p := range set.problems {
		problems = append(problems, label+": "+p)
	}
	sort.Strings(problems)
	return append([]*runningInput(nil), set.running...), problems
}
