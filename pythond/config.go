package pythond

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Defaults for the zero values of Input's fields.
const (
	DefaultCmd        = "python3"
	DefaultRestartMin = time.Second
	DefaultRestartMax = time.Minute
)

// Input is one [[inputs.pythond]] table: one supervised Python process
// running every collector found in Dirs. Name, Cmd, Dirs and Envs are
// DataKit's keys; the others are collectkit's.
//
// A host that embeds pythond's tables in its own configuration declares
//
//	Inputs struct {
//		Pythond []pythond.Input `toml:"pythond"`
//	} `toml:"inputs"`
//
// decodes with go-toml's DisallowUnknownFields, and calls Validate on each.
type Input struct {
	// Name identifies the input in logs and errors. Required.
	Name string `toml:"name"`
	// Framework is the collector API of the input's scripts (TOML
	// "framework": "datakit", the default, "netdata", "netdata-plugin",
	// "collectd" or "prometheus"). Options of one framework are errors on
	// an input of another.
	Framework Framework `toml:"framework"`
	// Cmd is the Python interpreter, a path or a name looked up in PATH.
	// Empty means "python3".
	Cmd string `toml:"cmd"`
	// Dirs are the directories (or single .py files) to load collectors
	// from. Relative paths are relative to the python.d root (in git-repo
	// mode, to gitrepos/<repo>/python.d first); they may not leave it,
	// through ".." or a symlink. An absolute path is used as written.
	// At least one is required.
	Dirs []string `toml:"dirs"`
	// Envs are "KEY=VALUE" entries added to the environment the process
	// inherits from the host. "$VAR" and "${VAR}" in a value expand to the
	// inherited value (or an earlier entry of Envs).
	Envs []string `toml:"envs"`
	// Tags are added to every point the collectors report, unless the
	// point already has the tag or the report sets ignore_global_tags;
	// they win over Options.GlobalTags. Collectors in HTTP mode add them
	// too (they get them in COLLECTKIT_PYTHOND_TAGS).
	Tags map[string]string `toml:"tags"`
	// Workdir is the working directory of the process. Empty means the
	// python.d root; a relative path is under the root and may not leave
	// it, also not through a symbolic link; an absolute path is taken as
	// written. Collector files in Dirs that are symbolic links leading out
	// of their dir are not loaded either (the log says which).
	Workdir string `toml:"workdir"`
	// RestartMin and RestartMax bound the delay before the process is
	// restarted after it exits: the delay starts at RestartMin, doubles on
	// each exit, and never exceeds RestartMax; ±20% jitter is applied. A
	// process that ran for 10s (or RestartMax, if longer) before exiting
	// starts the back-off over. Zero means 1s and 1m; when only
	// RestartMax is set and it is below 1s, it is the minimum too.
	RestartMin Duration `toml:"restart_min"`
	RestartMax Duration `toml:"restart_max"`
	// RunTimeout is how long one run() of a collector may take before it is
	// reported as over time (Python cannot stop a running thread, so the
	// run goes on and the next run waits for it). Zero means the
	// collector's interval; negative disables the check.
	RunTimeout Duration `toml:"run_timeout"`
	// ExactInts keeps Python ints exact: int64 fields (uint64 above the
	// int64 range; beyond both the report is refused). False (the default)
	// writes them as float fields, as DataKit does (its JSON write API
	// reads every number as a float64), so a script writes the same field
	// types here as under DataKit, in pipe and HTTP mode alike. bools
	// stay bools either way.
	ExactInts bool `toml:"exact_ints"`

	// The options of the netdata, netdata-plugin, collectd and prometheus
	// frameworks; each type documents its keys.
	NetdataOptions
	NetdataPluginOptions
	CollectdOptions
	PrometheusOptions
}

// Duration is a time.Duration written in TOML as a string such as "1s" or
// "1m30s".
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want a string like \"1s\" or \"1m30s\")", text)
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats d like time.Duration.String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// String formats d like time.Duration.String.
func (d Duration) String() string { return time.Duration(d).String() }

// Config is a pythond configuration document: its [[inputs.pythond]]
// tables, in order.
type Config struct {
	Inputs []Input
}

// document is the TOML shape ParseConfig accepts.
type document struct {
	Inputs struct {
		Pythond []Input `toml:"pythond"`
	} `toml:"inputs"`
}

// ConfigError is a mistake in a configuration: the key it concerns
// (for example "inputs.pythond[1].restart_max") and, when known, its line.
type ConfigError struct {
	Key  string
	Line int // 1-based; 0 when unknown
	Err  error
}

// Error describes the mistake, naming the key and line.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("pythond: config")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, " key %s", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// ErrInvalidConfig is matched by every error ParseConfig and Validate
// return for a bad configuration.
var ErrInvalidConfig = errors.New("invalid configuration")

// ParseConfig decodes a TOML document made of [[inputs.pythond]] tables
// and validates every input. Unknown keys (at any level) and invalid values
// are errors naming the key and, where the TOML decoder knows it, the line;
// all of them are reported, joined with errors.Join. Hosts whose own
// configuration holds other keys embed []Input instead (see Input).
func ParseConfig(data []byte) (Config, error) {
	var doc document
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Config{}, tomlError(err)
	}
	cfg := Config{Inputs: doc.Inputs.Pythond}
	return cfg, cfg.Validate()
}

// Validate checks every input and that input names are unique.
func (c Config) Validate() error { return c.validate(nil) }

// validate is Validate with the inputs' keys (inputKey's keys).
func (c Config) validate(keys []string) error {
	var errs []error
	names := make(map[string]int, len(c.Inputs))
	for i, in := range c.Inputs {
		prefix := inputKey(keys, i)
		if err := in.validate(prefix); err != nil {
			errs = append(errs, err)
		}
		name := strings.TrimSpace(in.Name)
		if j, dup := names[name]; dup && name != "" {
			errs = append(errs, &ConfigError{Key: prefix + ".name", Err: fmt.Errorf("%w: name %q is already used by %s", ErrInvalidConfig, name, inputKey(keys, j))})
		}
		names[name] = i
	}
	return errors.Join(errs...)
}

// inputKey is the configuration key of input i: keys[i] when the host
// gave keys, else "inputs.pythond[i]".
func inputKey(keys []string, i int) string {
	if i < len(keys) && keys[i] != "" {
		return keys[i]
	}
	return fmt.Sprintf("inputs.pythond[%d]", i)
}

// Validate reports every invalid value of in, each as a *ConfigError
// naming its key, joined with errors.Join.
func (in Input) Validate() error { return in.validate("") }

func (in Input) validate(prefix string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		if prefix != "" {
			key = prefix + "." + key
		}
		errs = append(errs, &ConfigError{Key: key, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)})
	}
	if strings.TrimSpace(in.Name) == "" {
		bad("name", "name is required")
	} else if strings.ContainsAny(in.Name, "\x00\n\x1f") {
		bad("name", "name %q contains a control character", in.Name)
	}
	r := roomOf(in.Framework)
	if strings.ContainsRune(in.Cmd, 0) {
		bad("cmd", "cmd contains a NUL byte")
	} else if in.Cmd == "" && r != nil && r.noDefaultCmd {
		bad("cmd", "cmd is required for framework %s", r.name)
	}
	if len(in.Dirs) == 0 && (r == nil || !r.noDirs) {
		bad("dirs", "at least one directory is required")
	}
	for i, d := range in.Dirs {
		if strings.TrimSpace(d) == "" {
			bad(fmt.Sprintf("dirs[%d]", i), "empty directory")
		} else if strings.ContainsRune(d, 0) {
			bad(fmt.Sprintf("dirs[%d]", i), "directory contains a NUL byte")
		}
	}
	for i, e := range in.Envs {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\x00") || strings.ContainsRune(e, 0) {
			bad(fmt.Sprintf("envs[%d]", i), "%q is not KEY=VALUE", e)
		}
	}
	for k, v := range in.Tags {
		if k == "" {
			bad("tags", "empty tag key")
		} else if v == "" {
			bad("tags."+k, "empty tag value")
		}
	}
	if in.RestartMin < 0 {
		bad("restart_min", "negative duration %s", in.RestartMin)
	}
	if in.RestartMax < 0 {
		bad("restart_max", "negative duration %s", in.RestartMax)
	}
	if lo, hi := in.restartMin(), in.restartMax(); in.RestartMin >= 0 && in.RestartMax >= 0 && lo > hi {
		bad("restart_max", "restart_max %s is less than restart_min %s", hi, lo)
	}
	validateFramework(&in, bad)
	return errors.Join(errs...)
}

func (in Input) cmd() string {
	if in.Cmd == "" {
		return DefaultCmd
	}
	return in.Cmd
}

func (in Input) restartMin() time.Duration {
	if in.RestartMin == 0 {
		if in.RestartMax > 0 && time.Duration(in.RestartMax) < DefaultRestartMin {
			return time.Duration(in.RestartMax)
		}
		return DefaultRestartMin
	}
	return time.Duration(in.RestartMin)
}

func (in Input) restartMax() time.Duration {
	if in.RestartMax == 0 {
		return max(DefaultRestartMax, in.restartMin())
	}
	return time.Duration(in.RestartMax)
}

// tomlError turns go-toml's errors into ConfigErrors naming key and line.
func tomlError(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			errs = append(errs, &ConfigError{Key: strings.Join(e.Key(), "."), Line: line, Err: fmt.Errorf("%w: unknown key", ErrInvalidConfig)})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return &ConfigError{Key: strings.Join(de.Key(), "."), Line: line, Err: fmt.Errorf("%w: %s", ErrInvalidConfig, strings.TrimPrefix(de.Error(), "toml: "))}
	}
	return &ConfigError{Err: fmt.Errorf("%w: %w", ErrInvalidConfig, err)}
}
