package pythond

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// State is where an input's process is in its life.
type State string

// The states of InputStatus.State.
const (
	StatePending  State = "pending"  // Run has not started it yet
	StateStarting State = "starting" // its process is being started
	StateRunning  State = "running"  // its process runs
	StateBackoff  State = "backoff"  // its process exited; it is restarted after a delay
	StateBroken   State = "broken"   // it cannot start (interpreter, dirs, no collector: see Problem); tried again with back-off
	StateStopped  State = "stopped"  // Run has returned
)

// Status is a snapshot of a Supervisor's inputs, as Supervisor.Status
// returns it. Its JSON form has snake_case keys, durations in nanoseconds
// (keys ending in _ns) and times in RFC 3339.
type Status struct {
	// Inputs are in the order of Options.Inputs; an input of a framework
	// of one process per script has one entry per script once Run has
	// listed them.
	Inputs []InputStatus `json:"inputs"`
}

// InputStatus is the state of one supervised process: an input, or one
// script of an input whose framework runs one process per script.
type InputStatus struct {
	Name      string   `json:"name"`
	Framework string   `json:"framework"` // "datakit", "netdata", ...
	Cmd       string   `json:"cmd"`       // the resolved interpreter or command, or as configured when it was not found
	Dirs      []string `json:"dirs"`      // the resolved dirs
	Script    string   `json:"script"`    // one-process-per-script frameworks: the script; else ""
	State     State    `json:"state"`
	// Problem is why the input is broken, or the reason of its last exit;
	// "" when there is none.
	Problem string    `json:"problem"`
	PID     int       `json:"pid"`     // 0 when not running
	Started time.Time `json:"started"` // when the current process started; zero when not running
	// Restarts counts the starts after the first.
	Restarts int `json:"restarts"`
	// LastExit is how the last process ended ("exit status 1", "signal:
	// killed"); "" before any exit.
	LastExit string `json:"last_exit"`
	Reports  uint64 `json:"reports"`  // reports received
	Points   uint64 `json:"points"`   // points written to the Sink
	Rejected uint64 `json:"rejected"` // points refused by normalization or the Sink
	// Collectors are the collectors (Netdata jobs, collectd read
	// callbacks) that have reported a run, in the order first seen.
	Collectors []CollectorStatus `json:"collectors"`
	// LastErrors are the input's latest collector errors, oldest first, at
	// most MaxLastErrors.
	LastErrors []CollectorError `json:"last_errors"`
}

// CollectorStatus is what is known of one collector's runs. A DataKit
// collector's runner says when each run starts and ends, the collectd
// runner when each read ends; for a Netdata job a run is an update and
// its duration is not known.
type CollectorStatus struct {
	Name         string        `json:"name"`
	LastRun      time.Time     `json:"last_run"`         // when the last run started
	LastDuration time.Duration `json:"last_duration_ns"` // of the last finished run; 0 when not known
	Runs         uint64        `json:"runs"`             // finished runs
	Failures     uint64        `json:"failures"`         // runs that raised
	Running      bool          `json:"running"`          // a run is in progress
	Overdue      bool          `json:"overdue"`          // the run in progress is past its run timeout (it hangs)
	LastError    string        `json:"last_error"`       // "" when the last run succeeded
}

// MaxLastErrors bounds InputStatus.LastErrors.
const MaxLastErrors = 10

// runBuckets are the upper bounds, in seconds, of the run duration
// histogram.
var runBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// unit is the live state of one supervised process. The counters are
// atomic, as the report path updates them; the rest is under mu.
type unit struct {
	input int // index in Options.Inputs

	reports, points, rejected atomic.Uint64

	mu         sync.Mutex
	st         InputStatus // without the counters, Collectors and LastErrors
	confDir    string      // netdata: the resolved conf_dir, for the watcher
	collectors map[string]*CollectorStatus
	order      []string
	errs       []CollectorError // ring of MaxLastErrors
	errNext    int
	errCounts  [numKinds]uint64 // errors by kind, for the metrics
	runFails   uint64           // runs that raised, over every collector
	// The run durations: counts per runBuckets bound (not cumulative),
	// their sum and number.
	durCounts []uint64
	durSum    float64
	durCount  uint64
}

func newUnit(in *resolvedInput) *unit {
	u := &unit{collectors: map[string]*CollectorStatus{}, durCounts: make([]uint64, len(runBuckets)+1)}
	u.st = InputStatus{
		Name:      in.Name,
		Framework: in.Framework.String(),
		Cmd:       in.cmdPath,
		Dirs:      slices.Clone(in.dirs),
		Script:    in.script,
		State:     StatePending,
	}
	if u.st.Cmd == "" {
		u.st.Cmd = in.cmd()
	}
	u.confDir = in.confDir
	return u
}

// snapshot returns a copy of u's status.
func (u *unit) snapshot() InputStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := u.st
	st.Dirs = slices.Clone(st.Dirs)
	st.Reports, st.Points, st.Rejected = u.reports.Load(), u.points.Load(), u.rejected.Load()
	st.Collectors = make([]CollectorStatus, 0, len(u.order))
	for _, name := range u.order {
		st.Collectors = append(st.Collectors, *u.collectors[name])
	}
	n := len(u.errs)
	st.LastErrors = make([]CollectorError, 0, n)
	if n < MaxLastErrors {
		st.LastErrors = append(st.LastErrors, u.errs...)
	} else {
		st.LastErrors = append(st.LastErrors, u.errs[u.errNext:]...)
		st.LastErrors = append(st.LastErrors, u.errs[:u.errNext]...)
	}
	return st
}

// set changes u's status under its lock.
func (u *unit) set(f func(st *InputStatus)) {
	u.mu.Lock()
	f(&u.st)
	u.mu.Unlock()
}

// resolved records the result of resolving in's interpreter and dirs.
func (u *unit) resolved(in *resolvedInput, problem string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.st.Cmd = in.cmdPath
	if u.st.Cmd == "" {
		u.st.Cmd = in.cmd()
	}
	u.st.Dirs = slices.Clone(in.dirs)
	u.confDir = in.confDir
	u.st.Problem = problem
	if problem != "" {
		u.st.State = StateBroken
	}
}

// watched returns the dirs and the conf_dir of u, for the watcher.
func (u *unit) watched() (dirs []string, confDir string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.st.Dirs), u.confDir
}

// addError keeps e among u's last errors.
func (u *unit) addError(e CollectorError) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e.Kind < numKinds {
		u.errCounts[e.Kind]++
	}
	if len(u.errs) < MaxLastErrors {
		u.errs = append(u.errs, e)
		return
	}
	u.errs[u.errNext] = e
	u.errNext = (u.errNext + 1) % MaxLastErrors
}

// collector returns the state of the named collector; u.mu is held.
func (u *unit) collector(name string) *CollectorStatus {
	c, ok := u.collectors[name]
	if !ok {
		c = &CollectorStatus{Name: name}
		u.collectors[name] = c
		u.order = append(u.order, name)
	}
	return c
}

// runStarted records that a run of collector began at t.
func (u *unit) runStarted(collector string, t time.Time) {
	u.mu.Lock()
	c := u.collector(collector)
	c.LastRun, c.Running, c.Overdue = t, true, false
	u.mu.Unlock()
}

// runEnded records the end of collector's run after d, failed with
// errText unless it is "".
func (u *unit) runEnded(collector string, d time.Duration, errText string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.collector(collector)
	if !c.Running {
		c.LastRun = time.Now().Add(-d)
	}
	c.Running, c.Overdue = false, false
	c.LastDuration = d
	c.Runs++
	c.LastError = errText
	if errText != "" {
		c.Failures++
		u.runFails++
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(runBuckets, sec)
	u.durCounts[i]++
	u.durSum += sec
	u.durCount++
}

// overdue marks collector's run in progress as past its timeout.
func (u *unit) overdue(collector string) {
	u.mu.Lock()
	c := u.collector(collector)
	if c.Running {
		c.Overdue = true
	}
	u.mu.Unlock()
}

// updated records a run of unknown duration (a Netdata job's update, a
// collectd read) at t.
func (u *unit) updated(collector string, t time.Time) {
	u.mu.Lock()
	c := u.collector(collector)
	c.LastRun = t
	c.Runs++
	u.mu.Unlock()
}

// starting records that a process is being started.
func (u *unit) starting() {
	u.set(func(st *InputStatus) { st.State = StateStarting })
}

// started records the process's PID and start.
func (u *unit) started(pid int, t time.Time) {
	u.set(func(st *InputStatus) {
		st.State, st.PID, st.Started = StateRunning, pid, t
		if st.Problem != "" && st.LastExit == "" {
			st.Problem = ""
		}
	})
}

// exited records the end of the process: how it ended, and the state the
// input is in now.
func (u *unit) exited(how, problem string, state State) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.st.PID, u.st.Started = 0, time.Time{}
	if how != "" {
		u.st.LastExit = how
	}
	u.st.Problem = problem
	u.st.State = state
	for _, c := range u.collectors {
		c.Running, c.Overdue = false, false
	}
}

// Status returns a snapshot of every input's state. It is safe to call
// concurrently, before, during and after Run.
func (s *Supervisor) Status() Status {
	s.unitsMu.Lock()
	units := slices.Clone(s.units)
	s.unitsMu.Unlock()
	st := Status{Inputs: make([]InputStatus, 0, len(units))}
	for _, u := range units {
		st.Inputs = append(st.Inputs, u.snapshot())
	}
	return st
}
