package netdataconf

import (
	"encoding/json"
	"io"
)

// The five job keys that python.d.plugin fills from defaults, in the order
// they are checked.
const (
	KeyUpdateEvery        = "update_every"
	KeyPriority           = "priority"
	KeyAutodetectionRetry = "autodetection_retry"
	KeyChartCleanup       = "chart_cleanup"
	KeyPenalty            = "penalty"
)

// DefaultKeys lists the five keys a job inherits from the top level of its
// conf file, from the module's globals and from the plugin's base defaults.
var defaultKeys = [...]string{KeyUpdateEvery, KeyPriority, KeyAutodetectionRetry, KeyChartCleanup, KeyPenalty}

// Plugin base defaults (the lowest precedence level) other than update_every,
// which comes from [Options.UpdateEvery].
const (
	DefaultPriority           = 60000
	DefaultAutodetectionRetry = 0
	DefaultChartCleanup       = 10
	DefaultPenalty            = true
)

// JobsFile is what the Python runner reads: every module to load with its
// jobs, fully resolved except for the module globals, which only Python can
// read (see [Job.Explicit] and [Module.EnabledExplicitly]).
type JobsFile struct {
	// UpdateEveryMin is the minimum update_every (at least 1): the runner
	// raises every job to it after applying module globals.
	UpdateEveryMin int `json:"update_every_min"`
	// Modules in name order.
	Modules []Module `json:"modules"`
	// Disabled lists the modules python.d.conf turned off (not written).
	Disabled []string `json:"-"`
}

// Module is one <name>.chart.py file and its jobs.
type Module struct {
	Name string `json:"name"`
	// Path is the module file's absolute path.
	Path string `json:"path"`
	// ConfPath is the <name>.conf used, or "" when none was found (not written).
	ConfPath string `json:"-"`
	// EnabledExplicitly is true when python.d.conf says "<name>: yes": only
	// then does a module with disabled_by_default = True run.
	EnabledExplicitly bool `json:"enabled_explicitly"`
	// Jobs in file order.
	Jobs []Job `json:"jobs"`
}

// Job is one job of a module, with the keys python.d.plugin injects.
type Job struct {
	// JobName is the job's key (or the module name in the single-job form),
	// with runs of whitespace replaced by "_".
	JobName string `json:"job_name"`
	// OverrideName is the job's "name:" with whitespace runs as "_", or "".
	OverrideName string `json:"override_name"`

	UpdateEvery        int  `json:"update_every"`
	Priority           int  `json:"priority"`
	AutodetectionRetry int  `json:"autodetection_retry"`
	ChartCleanup       int  `json:"chart_cleanup"`
	Penalty            bool `json:"penalty"`

	// Explicit lists which of the five default keys the job or the top level
	// of its conf file set. The others hold the plugin base defaults and
	// give way to the module's globals.
	Explicit []string `json:"explicit"`
	// Config holds every key of the job as written, minus "name".
	Config Map `json:"config"`
	// Line is where the job starts in its conf file (0 without one; not written).
	Line int `json:"-"`
}

// ActualName is the name python.d.plugin uses in chart types: the override
// name, else the job name.
func (j Job) ActualName() string {
	if j.OverrideName != "" {
		return j.OverrideName
	}
	return j.JobName
}

// WriteTo writes f as JSON (one line, then a newline).
func (f *JobsFile) WriteTo(w io.Writer) (int64, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}
