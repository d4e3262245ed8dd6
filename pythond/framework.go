package pythond

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Framework names the collector API an input's scripts are written for.
// The zero value is FrameworkDataKit.
type Framework uint8

// The frameworks. Each has its own options and its own Python modules on
// its scripts' sys.path; the package documentation says what each runs.
const (
	FrameworkDataKit       Framework = iota // DataKit's DataKitFramework scripts (the default)
	FrameworkNetdata                        // Netdata python.d modules, run by collectkit's runtime
	FrameworkNetdataPlugin                  // any Netdata external plugin, read through the plugins.d protocol
	FrameworkCollectd                       // collectd Python plugins, with collectd.conf and types.db
	FrameworkPrometheus                     // prometheus_client programs, one process per script
	numFrameworks
)

// rooms is the table of frameworks. Each is a room of its own: one Go file
// (datakit.go, netdata.go, netdata_plugin.go, collectd.go, prometheus.go)
// with its options, their validation, how its process is started and how
// what it sends becomes points, and one folder under py/ holding the only
// modules put on its scripts' sys.path; the private runtime (py/runtime:
// channel, loader, scheduler, one runner per framework) is shared. Adding a
// framework is one line here, its Go file and its Python folder.
var rooms = [numFrameworks]*room{
	FrameworkDataKit:       &datakitRoom,
	FrameworkNetdata:       &netdataRoom,
	FrameworkNetdataPlugin: &netdataPluginRoom,
	FrameworkCollectd:      &collectdRoom,
	FrameworkPrometheus:    &prometheusRoom,
}

// String returns the framework's name as written in TOML, such as
// "netdata-plugin".
func (f Framework) String() string {
	if f < numFrameworks {
		return rooms[f].name
	}
	return fmt.Sprintf("Framework(%d)", uint8(f))
}

// MarshalText returns the framework's name.
func (f Framework) MarshalText() ([]byte, error) {
	if f >= numFrameworks {
		return nil, fmt.Errorf("pythond: invalid Framework %d", uint8(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText parses a framework's name; an unknown one is an error
// listing the allowed names.
func (f *Framework) UnmarshalText(text []byte) error {
	for i, r := range rooms {
		if r.name == string(text) {
			*f = Framework(i)
			return nil
		}
	}
	return fmt.Errorf("unknown framework %q (allowed: %s)", text, frameworkNames())
}

func frameworkNames() string {
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

// room is what a framework contributes; the supervisor does the rest
// (interpreter and dirs resolution, environment, supervision, the
// private channel, logging, delivery to the sink).
type room struct {
	name string
	// start is nil for a framework that is not yet supported.
	start func(ctx context.Context, s *Supervisor, in *resolvedInput, pyDir string) (*launch, error)
	// options are the TOML keys of the framework's own options; set
	// returns those that in sets. A key set on an input of another
	// framework that does not list it is an error naming its framework.
	options []string
	set     func(in *Input) []string
	// validate checks the framework's options (and what it requires of
	// the common ones), reporting each mistake with bad.
	validate func(in *Input, bad badFunc)
	// resolve completes in within New: paths, defaults. It may be nil.
	resolve func(s *Supervisor, in *resolvedInput, prefix string) error
	// noDirs is true when dirs is optional; noDefaultCmd when cmd is
	// required (it is not a Python interpreter).
	noDirs, noDefaultCmd bool
	// scripts, if not nil, makes an input one process per script: Run
	// lists them once, and each is supervised on its own (start sees it
	// in resolvedInput.script). An error means none was found.
	scripts func(in *resolvedInput) ([]string, error)
	// rerun, if not nil, is the period of a process that exits with
	// status 0: it starts again at its next period (counted from its
	// start), not after the back-off.
	rerun func(in *resolvedInput) time.Duration
}

// badFunc reports an invalid value of key.
type badFunc func(key, format string, args ...any)

// launch is one run of an input's process, as its room starts it.
type launch struct {
	// Args follow the command.
	Args []string
	// Env is added to the input's environment.
	Env []string
	// Channel gives the process the private channel (fds 3 and 4, see
	// internal/wire); Frames handles the room's own frame kinds on it
	// (kinds the shared server does not know: D, G and L are its own);
	// meta and payload are valid only during the call.
	Channel bool
	Frames  map[byte]func(ctx context.Context, meta, payload []byte)
	// Stdout, if not nil, reads the process's stdout (instead of it being
	// logged line by line) until EOF.
	Stdout func(ctx context.Context, r io.Reader)
	// Close, if not nil, is called once the process and its readers are
	// done.
	Close func()
}

// roomOf returns f's room, nil for an invalid value.
func roomOf(f Framework) *room {
	if f >= numFrameworks {
		return nil
	}
	return rooms[f]
}

// validateFramework checks in's framework and the framework options set
// on it.
func validateFramework(in *Input, bad badFunc) {
	r := roomOf(in.Framework)
	if r == nil {
		bad("framework", "invalid framework %d (allowed: %s)", uint8(in.Framework), frameworkNames())
		return
	}
	if r.start == nil {
		bad("framework", "framework %s is not yet supported", r.name)
		return
	}
	for _, other := range rooms {
		if other == r || other.set == nil {
			continue
		}
		for _, key := range other.set(in) {
			if !slices.Contains(r.options, key) {
				bad(key, "%s is an option of framework %s, not of %s", key, ownersOf(key), r.name)
			}
		}
	}
	if r.validate != nil {
		r.validate(in, bad)
	}
}

// ownersOf names the frameworks that have option key.
func ownersOf(key string) string {
	var names []string
	for _, r := range rooms {
		if slices.Contains(r.options, key) {
			names = append(names, r.name)
		}
	}
	return strings.Join(names, " and ")
}
