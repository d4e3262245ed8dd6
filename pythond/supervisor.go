package pythond

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/backoff"
	"github.com/collectkit/collectkit/point"
)

// DefaultStopGrace is how long a stopping process group is given between
// SIGTERM and SIGKILL when Options.StopGrace is zero.
const DefaultStopGrace = 5 * time.Second

// Options configure a Supervisor. Only Sink is required; the zero value of
// every other field means the default documented on it.
type Options struct {
	// Inputs are the [[inputs.pythond]] entries to run, one Python process
	// each (framework prometheus: one per script). They are validated by
	// New.
	Inputs []Input
	// Keys, when set, are the configuration keys of Inputs, one each,
	// that errors and log records name (for example "inputs.pythond[3]",
	// for a host that runs a Supervisor per input). An input without one
	// is "inputs.pythond[i]", i its index in Inputs.
	Keys []string

	// Root is the python.d root that relative Input.Dirs and Workdir are
	// resolved against. Empty means the current working directory.
	Root string
	// GitRepos, when not empty, turns on git-repo mode: a relative dir is
	// looked up as GitRepos/<repo>/python.d/<dir> first and under Root
	// only if missing there.
	GitRepos string
	// GitRepo names the repository under GitRepos. Empty means every
	// repository directory under GitRepos, in lexical order.
	GitRepo string

	// Sink receives the points, after Constraint normalization, as batches
	// whose Input is the report's "input" or else the collector's name.
	// Required.
	Sink point.Sink
	// Constraint configures the normalization applied to every point
	// before Sink, with the semantics of constraint's Sink middleware: a
	// report with a rejected point is refused whole (unless
	// Constraint.WritePartial), points left without fields are dropped,
	// and Constraint.OnWarnings sees the fixes. Points the host makes
	// itself (Netdata, collectd and prometheus frameworks) have no one to
	// send them again: a rejected one is reported and the others written.
	Constraint constraint.Options

	// Logger receives the supervisor's records and every line the Python
	// processes print, each with the attribute "pythond" (the input's
	// name). Nil discards them.
	Logger *slog.Logger
	// OnError, if not nil, is called for every collector error (see
	// ErrorKind), from the goroutine that met it; it should return
	// quickly. A host forwards these to its /v1/lasterror store.
	OnError func(ctx context.Context, e CollectorError)

	// StateDir is where the embedded Python package is written, into a
	// subdirectory named after the hash of its contents. Empty means
	// os.UserCacheDir()/collectkit, or os.TempDir()/collectkit-<uid>.
	StateDir string
	// StopGrace is the time between SIGTERM and SIGKILL when a process
	// group is stopped. Zero means DefaultStopGrace; negative means SIGKILL
	// at once.
	StopGrace time.Duration
	// MaxReportBytes bounds the encoded size of one category of one
	// report, however it is split for transfer; a larger one is refused
	// with an error the script sees, and what arrives past the limit is
	// skipped rather than kept. Zero means DefaultMaxReportBytes.
	MaxReportBytes int
	// Env is the environment the processes inherit before Input.Envs are
	// added. Nil means os.Environ().
	Env []string
	// GlobalTags are the host's global tags, added to every point of every
	// input (after Input.Tags, which win on a shared key) unless the point
	// already has the tag or its report sets ignore_global_tags, as
	// DataKit adds its global host tags to what comes through /v1/write.
	// Collectors in HTTP mode post to a DataKit that adds its own.
	GlobalTags map[string]string

	// Strict makes New refuse an input whose interpreter, directories,
	// working directory or framework files (conf_dir, collectd_config)
	// cannot be found or read, every problem joined in its error, as a
	// deploy script's -check-config wants. When false (the default, as
	// DataKit does), such an input is started as broken: its problem is
	// logged at Error, given to OnError (KindDiscover) and shown by
	// Status, the other inputs run, and it is resolved again with its
	// restart back-off (a directory may appear later). So is, either way,
	// an input that Run finds nothing to run in (no collector, no
	// script). Invalid values (a bad duration, an unknown framework) are
	// errors of New either way.
	Strict bool
	// Watch restarts an input's process when a file in its dirs (or in
	// their immediate subdirectories, as deep as collectors are looked
	// for) or in its netdata conf_dir changes on disk, after a debounce of
	// under a second; the other inputs' processes keep running. For
	// framework prometheus only the changed script's process restarts, and
	// a new script starts on its own. Editors' temporary and backup files,
	// .pyc files and __pycache__ are ignored.
	Watch bool
	// Pipeline, if not nil, is called for every logging point the
	// collectors report, before normalization, with the point's
	// measurement as its source (see point.Pipeline): keep false drops the
	// point; an error keeps it and becomes a warning of it, for
	// Constraint.OnWarnings and the log.
	Pipeline point.Pipeline
	// CollectorLogs, when its Dir is set, also writes the log files
	// DataKit's framework writes for datakit-framework inputs (see
	// CollectorLogs); the Logger stays the main place.
	CollectorLogs CollectorLogs
}

// CollectorLogs configures DataKit's per-input log files: a CLI log,
// _datakit_pythond_cli.log, and one framework log per input,
// _datakit_pythond_framework_<name>_.log, written by the Python side with
// rotation by size.
type CollectorLogs struct {
	// Dir is where the files are written. Empty: none are.
	Dir string
	// MaxBytes is the size at which a file is rotated. Zero means 100 kB,
	// as in DataKit.
	MaxBytes int64
	// Backups is how many rotated files are kept. Zero means 10, as in
	// DataKit.
	Backups int
}

// Supervisor runs the Python processes of its inputs. Create it with New
// and start it with Run.
type Supervisor struct {
	inputs        []*resolvedInput
	sink          point.Sink
	norm          *constraint.Normalizer
	onWarnings    func(context.Context, point.Batch, []point.Warning)
	dropEmpty     bool
	logger        *slog.Logger
	onError       func(context.Context, CollectorError)
	stateDir      string
	stopGrace     time.Duration
	maxReport     int
	root          string
	collectorLogs CollectorLogs
	roots         roots
	strict        bool
	watch         bool
	pipeline      point.Pipeline
	running       atomic.Bool
	// rewatchCh tells the watcher to look at the inputs' dirs again (one
	// has been resolved).
	rewatchCh chan struct{}

	// units are the supervised processes, for Status and the metrics: one
	// per input, or per script once Run has listed an input's scripts.
	unitsMu sync.Mutex
	units   []*unit
}

// resolvedInput is an Input with its paths and environment worked out.
type resolvedInput struct {
	Input
	room    *room
	confDir string       // netdata: conf_dir resolved
	jobs    *netdataJobs // netdata: the jobs' states
	script  string       // one process per script: this process's script
	cmdPath string
	dirs    []string
	workdir string
	env     []string
	tags    []point.Tag
	logger  *slog.Logger
	prefix  string // the input's key, "inputs.pythond[i]"
	// problem is why the input cannot start (interpreter, dirs, its
	// room's files), nil once it is resolved.
	problem error
	// unit is the status of this process; restart, when a value comes,
	// makes the process (or its wait) restart now (Options.Watch).
	unit    *unit
	restart chan struct{}
	// procs are the processes of an input of one process per script, as
	// last listed; under Supervisor.unitsMu.
	procs []*resolvedInput
}

// New validates opts, resolves every input's interpreter and directories,
// and returns a Supervisor. Invalid values are errors, reported together
// (errors.Join), each naming the input and key. So are, with
// Options.Strict, a missing interpreter and a directory that is missing,
// unreadable or outside its root; without it, such an input is logged and
// left broken (see Status), and Run tries it again.
func New(opts Options) (*Supervisor, error) {
	if opts.Sink == nil {
		return nil, errors.New("pythond: Options.Sink is required")
	}
	if err := (Config{Inputs: opts.Inputs}).validate(opts.Keys); err != nil {
		return nil, err
	}
	for _, k := range sortedTagKeys(opts.GlobalTags) {
		if k == "" {
			return nil, fmt.Errorf("pythond: Options.GlobalTags: empty tag key")
		}
		if opts.GlobalTags[k] == "" {
			return nil, fmt.Errorf("pythond: Options.GlobalTags: tag %q has an empty value", k)
		}
	}
	if err := opts.Constraint.Validate(); err != nil {
		return nil, fmt.Errorf("pythond: Options.Constraint: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Supervisor{
		sink:          opts.Sink,
		norm:          constraint.New(opts.Constraint),
		onWarnings:    opts.Constraint.OnWarnings,
		dropEmpty:     opts.Constraint.Actions[constraint.RuleNoField] == constraint.Fix,
		logger:        logger,
		onError:       opts.OnError,
		stateDir:      opts.StateDir,
		stopGrace:     opts.StopGrace,
		maxReport:     opts.MaxReportBytes,
		collectorLogs: opts.CollectorLogs,
	}
	if s.stateDir == "" {
		s.stateDir = defaultStateDir()
	}
	if s.stopGrace == 0 {
		s.stopGrace = DefaultStopGrace
	}
	if s.maxReport <= 0 {
		s.maxReport = DefaultMaxReportBytes
	}
	root := opts.Root
	if root == "" {
		root = "."
	}
	s.root = root
	s.roots = roots{root: root, gitRepos: opts.GitRepos, gitRepo: opts.GitRepo}
	s.strict, s.watch, s.pipeline = opts.Strict, opts.Watch, opts.Pipeline
	s.rewatchCh = make(chan struct{}, 1)
	base := opts.Env
	if base == nil {
		base = os.Environ()
	}
	var errs []error
	for i, in := range opts.Inputs {
		prefix := inputKey(opts.Keys, i)
		ri := &resolvedInput{Input: in, room: roomOf(in.Framework), logger: logger.With("pythond", in.Name), prefix: prefix, restart: make(chan struct{}, 1)}
		tagsJSON := ""
		if len(in.Tags) > 0 {
			b, err := json.Marshal(in.Tags)
			if err != nil {
				errs = append(errs, &ConfigError{Key: prefix + ".tags", Err: fmt.Errorf("%w: %w", ErrInvalidConfig, err)})
			}
			tagsJSON = string(b)
		}
		ri.env = buildEnv(base, in.Envs, tagsJSON)
		for _, k := range sortedTagKeys(in.Tags) {
			ri.tags = append(ri.tags, point.Tag{Key: k, Value: in.Tags[k]})
		}
		for _, k := range sortedTagKeys(opts.GlobalTags) {
			if _, ok := in.Tags[k]; !ok {
				ri.tags = append(ri.tags, point.Tag{Key: k, Value: opts.GlobalTags[k]})
			}
		}
		ri.problem = s.resolve(ri)
		if ri.problem != nil && s.strict {
			errs = append(errs, ri.problem)
		}
		ri.unit = newUnit(ri)
		ri.unit.input = i
		if ri.problem != nil {
			ri.unit.resolved(ri, problemText(ri.problem))
		}
		s.inputs = append(s.inputs, ri)
		s.units = append(s.units, ri.unit)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// An input left broken is logged and reported by Run, which retries it.
	return s, nil
}

// resolve looks up in's interpreter, directories and working directory
// and lets its room resolve the rest, returning every problem joined (nil
// when it can start). Run calls it again for an input that could not
// start: a directory or interpreter may appear later.
func (s *Supervisor) resolve(in *resolvedInput) error {
	var errs []error
	path, err := exec.LookPath(in.cmd())
	if err != nil {
		what := "Python interpreter"
		if in.room.noDefaultCmd {
			what = "command"
		}
		errs = append(errs, &ConfigError{Key: in.prefix + ".cmd", Err: fmt.Errorf("%w: %s %q not found: %w", ErrInvalidConfig, what, in.cmd(), err)})
	}
	in.cmdPath = path
	in.dirs = in.dirs[:0:0]
	for j, d := range in.Dirs {
		p, err := s.roots.resolve(fmt.Sprintf("%s.dirs[%d]", in.prefix, j), d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in.dirs = append(in.dirs, p)
	}
	if in.workdir, err = workdir(s.root, in.Workdir); err != nil {
		errs = append(errs, &ConfigError{Key: in.prefix + ".workdir", Err: err})
	}
	if in.room.resolve != nil {
		if err := in.room.resolve(s, in, in.prefix); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// problemText is err on one line, for InputStatus.Problem.
func problemText(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// Run installs the Python package, starts one process per input (per
// script for framework prometheus, whose scripts it lists now) and keeps
// each running (restarting it with back-off when it exits) until ctx is
// done. An input that cannot start (see Options.Strict) is tried again
// with the same back-off. Run then stops every process group (SIGTERM,
// StopGrace, SIGKILL), reaps every child, waits for its own goroutines and
// returns nil. It returns an error without starting anything if the Python
// package cannot be installed or Run is already running.
func (s *Supervisor) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("pythond: Supervisor.Run is already running")
	}
	defer s.running.Store(false)
	pyDir, err := installPython(s.stateDir)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	if s.watch {
		w, err := s.newWatcher()
		if err != nil {
			s.logger.Error("cannot watch the inputs' dirs; changes will not restart their processes", "err", err)
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(ctx)
			}()
		}
	}
	for _, in := range s.inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runInput(ctx, in, pyDir)
		}()
	}
	wg.Wait()
	s.unitsMu.Lock()
	for _, u := range s.units {
		u.set(func(st *InputStatus) { st.State, st.PID, st.Started = StateStopped, 0, time.Time{} })
	}
	s.unitsMu.Unlock()
	return nil
}

// runInput resolves in until it can start, then supervises its process
// or, for a framework of one process per script, one per script, until
// ctx is done.
func (s *Supervisor) runInput(ctx context.Context, in *resolvedInput, pyDir string) {
	policy := backoff.Exponential{Min: in.restartMin(), Max: in.restartMax(), Jitter: 0.2}
	var procs []*resolvedInput
	runs := scriptRuns{}
	defer runs.stopAll()
	failures := 0 // attempts that failed in a row
	for ctx.Err() == nil {
		if failures > 0 {
			if !s.wait(ctx, in, policy.Delay(failures-1)) {
				return
			}
			if in.problem = s.resolve(in); in.problem == nil {
				in.unit.resolved(in, "")
				in.logger.Info("input resolved; starting it")
				s.rewatch()
			}
		}
		if in.problem != nil {
			s.broken(ctx, in, in.problem, KindDiscover)
			failures++
			continue
		}
		if in.room.scripts == nil {
			s.supervise(ctx, in, pyDir)
			return
		}
		var err error
		if procs, err = s.processes(in, procs); err != nil {
			runs.stopAll()
			s.setUnits(in, nil)
			s.broken(ctx, in, err, KindDiscover)
			failures++
			continue
		}
		failures = 0
		runs.sync(ctx, procs, func(ctx context.Context, p *resolvedInput) { s.supervise(ctx, p, pyDir) })
		// The scripts run until ctx is done or the input is to be listed
		// again (a change in its dirs), which starts new scripts and
		// stops those that are gone.
		select {
		case <-ctx.Done():
		case <-in.restart:
			in.logger.Info("dirs changed; listing the scripts again")
		}
		if ctx.Err() == nil {
			if in.problem = s.resolve(in); in.problem != nil {
				runs.stopAll()
				s.setUnits(in, nil)
			}
		}
	}
}

// scriptRuns are the running processes of an input of one process per
// script, by script.
type scriptRuns map[string]*scriptRun

type scriptRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// sync starts run for every proc not running yet and stops those whose
// script is not among procs.
func (r scriptRuns) sync(ctx context.Context, procs []*resolvedInput, run func(context.Context, *resolvedInput)) {
	keep := map[string]bool{}
	for _, p := range procs {
		keep[p.script] = true
		if _, ok := r[p.script]; ok {
			continue
		}
		sub, cancel := context.WithCancel(ctx)
		sr := &scriptRun{cancel: cancel, done: make(chan struct{})}
		r[p.script] = sr
		go func() {
			defer close(sr.done)
			run(sub, p)
		}()
	}
	for script, sr := range r {
		if !keep[script] {
			sr.cancel()
			<-sr.done
			delete(r, script)
		}
	}
}

// stopAll stops every script's process and waits for them.
func (r scriptRuns) stopAll() {
	for script, sr := range r {
		sr.cancel()
		<-sr.done
		delete(r, script)
	}
}

// broken records, logs and reports that in cannot start because of err.
func (s *Supervisor) broken(ctx context.Context, in *resolvedInput, err error, kind ErrorKind) {
	in.unit.resolved(in, problemText(err))
	in.logger.Error("input cannot start; it is tried again with back-off", "err", err)
	s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: in.scriptName(), Kind: kind, Message: err.Error()})
}

// wait waits d, or less if in is to restart now; it returns false when
// ctx is done.
func (s *Supervisor) wait(ctx context.Context, in *resolvedInput, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-in.restart:
	}
	return true
}

// setUnits puts procs' units in place of the units of in (its own, or
// its scripts'), or in's own when procs is nil, and makes procs the
// processes of in that a change of their script restarts.
func (s *Supervisor) setUnits(in *resolvedInput, procs []*resolvedInput) {
	s.unitsMu.Lock()
	defer s.unitsMu.Unlock()
	idx := in.unit.input
	s.units = slices.DeleteFunc(s.units, func(u *unit) bool { return u.input == idx })
	if procs == nil {
		s.units = append(s.units, in.unit)
	}
	for _, p := range procs {
		s.units = append(s.units, p.unit)
	}
	slices.SortStableFunc(s.units, func(a, b *unit) int { return cmp.Compare(a.input, b.input) })
	in.procs = procs
}

// scriptName is the file name of in's script, empty for an input that is
// one process.
func (in *resolvedInput) scriptName() string {
	if in.script == "" {
		return ""
	}
	return filepath.Base(in.script)
}

// processes returns a copy of in per script, for a framework of one
// process per script, each with its own logger, status and restart
// channel (those of prev for a script prev had), and puts their status in
// place of in's. An error means no script was found.
func (s *Supervisor) processes(in *resolvedInput, prev []*resolvedInput) ([]*resolvedInput, error) {
	scripts, err := in.room.scripts(in)
	if err != nil {
		return nil, err
	}
	out := make([]*resolvedInput, 0, len(scripts))
	for _, sc := range scripts {
		p := *in
		p.script = sc
		p.logger = in.logger.With("script", p.scriptName())
		p.procs = nil
		if i := slices.IndexFunc(prev, func(q *resolvedInput) bool { return q.script == sc }); i >= 0 {
			p.restart, p.unit = prev[i].restart, prev[i].unit
			p.unit.set(func(st *InputStatus) { st.Cmd, st.Dirs = in.cmdPath, slices.Clone(in.dirs) })
		} else {
			p.restart = make(chan struct{}, 1)
			p.unit = newUnit(&p)
			p.unit.input = in.unit.input
		}
		out = append(out, &p)
	}
	s.setUnits(in, out)
	return out, nil
}

// stableAfter is the shortest life after which a process that exits is
// restarted after RestartMin again (also at least RestartMax).
const stableAfter = 10 * time.Second

// supervise runs in's process until ctx is done, restarting it with capped
// exponential back-off and jitter.
func (s *Supervisor) supervise(ctx context.Context, in *resolvedInput, pyDir string) {
	policy := backoff.Exponential{Min: in.restartMin(), Max: in.restartMax(), Jitter: 0.2}
	restarts := 0 // since the process last ran long enough
	for first := true; ; first = false {
		if !first {
			in.unit.set(func(st *InputStatus) { st.Restarts++ })
		}
		in.unit.starting()
		started := time.Now()
		err := s.runProcess(ctx, in, pyDir)
		if ctx.Err() != nil {
			in.unit.exited("", "", StateStopped)
			return
		}
		lived := time.Since(started)
		if errors.Is(err, errRestart) {
			in.logger.Info(in.noun() + " restarted: its files changed")
			restarts = 0
			continue
		}
		if in.room.rerun != nil && errors.Is(err, errExitedZero) {
			// A batch job: it runs again at its next period.
			period := in.room.rerun(in)
			wait := period - lived%period
			in.unit.exited("", "", StateBackoff)
			in.logger.Info(in.noun()+" exited with status 0; it runs again at its next interval", "lived", lived.Round(time.Millisecond), "rerun_in", wait.Round(time.Millisecond))
			restarts = 0
			if !s.wait(ctx, in, wait) {
				in.unit.exited("", "", StateStopped)
				return
			}
			continue
		}
		if lived >= max(policy.Max, stableAfter) {
			restarts = 0 // it ran long enough: start the back-off over
		}
		wait := policy.Delay(restarts)
		state := StateBackoff
		if errors.Is(err, errNoCollectors) || errors.Is(err, errStart) {
			state = StateBroken
		}
		in.unit.exited("", problemText(err), state)
		in.logger.Warn(in.noun()+" exited; restarting", "err", err, "lived", lived.Round(time.Millisecond), "restart_in", wait.Round(time.Millisecond))
		s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: in.scriptName(), Kind: KindExit, Message: fmt.Sprintf("%v; restarting in %s", err, wait.Round(time.Millisecond))})
		if !s.wait(ctx, in, wait) {
			in.unit.exited("", "", StateStopped)
			return
		}
		restarts++
	}
}

// report keeps e among in's last errors and gives it to OnError.
func (s *Supervisor) report(ctx context.Context, in *resolvedInput, e CollectorError) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	in.unit.addError(e)
	if s.onError != nil {
		defer func() {
			if v := recover(); v != nil {
				s.logger.ErrorContext(ctx, "host callback panicked", "callback", "OnError", "pythond", e.Name, "panic", fmt.Sprint(v), "error", e.Error(), "stack", string(debug.Stack()))
			}
		}()
		s.onError(ctx, e)
	}
}

// buildEnv returns base with envs set on top, each value's $VAR expanded
// against what is set so far, and, when not empty, the input's tags as a
// JSON object for collectors in HTTP mode. The channel's variables are
// not in it (runProcess adds them).
func buildEnv(base, envs []string, tagsJSON string) []string {
	env := make([]string, 0, len(base)+len(envs)+3)
	idx := make(map[string]int, len(base))
	set := func(k, v string) {
		if i, ok := idx[k]; ok {
			env[i] = k + "=" + v
			return
		}
		idx[k] = len(env)
		env = append(env, k+"="+v)
	}
	lookup := func(k string) string {
		if i, ok := idx[k]; ok {
			return env[i][len(k)+1:]
		}
		return ""
	}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			set(k, v)
		}
	}
	for _, kv := range envs {
		k, v, _ := strings.Cut(kv, "=")
		set(k, os.Expand(v, lookup))
	}
	if _, ok := idx["PYTHONUNBUFFERED"]; !ok {
		set("PYTHONUNBUFFERED", "1")
	}
	if _, ok := idx["PYTHONDONTWRITEBYTECODE"]; !ok {
		set("PYTHONDONTWRITEBYTECODE", "1")
	}
	if tagsJSON != "" {
		set(tagsEnv, tagsJSON)
	} else {
		set(tagsEnv, "")
	}
	// The channel's variables are set per process, for frameworks that
	// have the channel; inherited ones would name descriptors the process
	// does not have.
	set(fdsEnv, "")
	set(lockEnv, "")
	return slices.DeleteFunc(env, func(kv string) bool {
		return kv == fdsEnv+"=" || kv == lockEnv+"=" || kv == tagsEnv+"="
	})
}

// fdsEnv names the data and ack descriptors for the Python side; tagsEnv
// holds Input.Tags as a JSON object, which the HTTP mode adds to points.
// lockEnv names the file whose flock serializes the exchanges of
// processes forked from the collectors.
const (
	fdsEnv  = "COLLECTKIT_PYTHOND_FDS"
	tagsEnv = "COLLECTKIT_PYTHOND_TAGS"
	lockEnv = "COLLECTKIT_PYTHOND_LOCK"
)

func sortedTagKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// workdir resolves an input's working directory: the python.d root when
// empty, an absolute path as written, and a relative one under the root,
// which it may not leave, also not through a symbolic link.
func workdir(root, dir string) (string, error) {
	p := dir
	switch {
	case dir == "":
		p = root
	case !filepath.IsAbs(dir):
		if !filepath.IsLocal(filepath.Clean(dir)) {
			return "", fmt.Errorf("%w: working directory %q leaves the python.d root; write an absolute path to use a directory elsewhere", ErrInvalidConfig, dir)
		}
		p = filepath.Join(root, dir)
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w: working directory %s is not a directory", ErrInvalidConfig, p)
	}
	if dir != "" && !filepath.IsAbs(dir) {
		realRoot, err1 := filepath.EvalSymlinks(root)
		real, err2 := filepath.EvalSymlinks(p)
		rel, err3 := filepath.Rel(realRoot, real)
		if err := errors.Join(err1, err2, err3); err != nil {
			return "", fmt.Errorf("%w: working directory %s: %w", ErrInvalidConfig, p, err)
		}
		if !filepath.IsLocal(rel) && rel != "." {
			return "", fmt.Errorf("%w: working directory %s is a symbolic link to %s, outside the python.d root %s", ErrInvalidConfig, p, real, realRoot)
		}
	}
	return p, nil
}
