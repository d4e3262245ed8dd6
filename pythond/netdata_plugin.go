package pythond

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond/internal/netdata"
)

// The netdata-plugin room: any Netdata external plugin (cmd, run
// directly with args) whose stdout is the plugins.d text protocol, read
// line by line into a chart engine (internal/netdata, one per process)
// whose points go to the sink like every input's; stderr is logged. There
// is no private channel. The plugin gets the NETDATA_* variables Netdata
// sets (see pluginEnv); Input.Envs set any of them otherwise. A plugin
// that sends DISABLE (python.d.plugin does when it has no job) is logged
// and, when it exits, restarted with the input's back-off like any
// process, where Netdata would not start it again.

// NetdataPluginOptions are the options of framework netdata-plugin.
type NetdataPluginOptions struct {
	// Args are the plugin's arguments, update_every first as Netdata
	// passes them. Empty means just update_every. Framework prometheus
	// shares the key: there they are every script's sys.argv[1:].
	Args []string `toml:"args"`
}

var netdataPluginRoom = room{
	name:    "netdata-plugin",
	options: []string{"args", "update_every", "dimension_ids"},
	set: func(in *Input) []string {
		if len(in.Args) > 0 {
			return []string{"args"}
		}
		return nil
	},
	validate: func(in *Input, bad badFunc) {
		if in.UpdateEvery < 0 {
			bad("update_every", "update_every %d is negative", in.UpdateEvery)
		}
		for i, a := range in.Args {
			if strings.ContainsRune(a, 0) {
				bad(fmt.Sprintf("args[%d]", i), "argument contains a NUL byte")
			}
		}
	},
	noDirs:       true,
	noDefaultCmd: true,
	start:        startNetdataPlugin,
}

func startNetdataPlugin(_ context.Context, s *Supervisor, in *resolvedInput, _ string) (*launch, error) {
	ue := in.updateEvery()
	args := in.Args
	if len(args) == 0 {
		args = []string{strconv.Itoa(ue)}
	}
	env, err := pluginEnv(s.stateDir, in, ue)
	if err != nil {
		return nil, err
	}
	engine := netdata.New(netdata.Options{
		DimensionIDs: in.DimensionIDs,
		Logger:       in.logger,
		OnError: func(err error) {
			in.logger.Warn("bad plugins.d line from the plugin", "err", err)
		},
	})
	stdout := func(ctx context.Context, r io.Reader) {
		err := engine.Read(ctx, r, func(pts []point.Point) error {
			// deliver works in pts, which Read reuses once emit returns.
			_ = s.deliver(ctx, in, "", point.Metric, pts)
			return nil
		})
		switch {
		case errors.Is(err, netdata.ErrDisabled):
			in.logger.Warn("the plugin sent DISABLE: it has nothing to collect")
		case err != nil && ctx.Err() == nil:
			in.logger.Warn("reading the plugin's output", "err", err)
		}
	}
	return &launch{Args: args, Env: env, Stdout: stdout}, nil
}

// pluginEnv returns the NETDATA_* variables a plugin expects, as Netdata
// sets them, for those in's environment does not set: the update_every,
// the plugins dir (the command's own dir), the stock config dir beside
// it (../conf.d, as Debian installs it), and user config, lib, cache, log
// and lock dirs of the input's own under the state dir, made as needed.
func pluginEnv(stateDir string, in *resolvedInput, ue int) ([]string, error) {
	pluginsDir := filepath.Dir(in.cmdPath)
	base := filepath.Join(stateDir, "pythond", "netdata", safeName(in.Name))
	dirs := map[string]string{
		"NETDATA_USER_CONFIG_DIR": filepath.Join(base, "etc"),
		"NETDATA_LIB_DIR":         filepath.Join(base, "lib"),
		"NETDATA_CACHE_DIR":       filepath.Join(base, "cache"),
		"NETDATA_LOG_DIR":         filepath.Join(base, "log"),
		"NETDATA_LOCK_DIR":        filepath.Join(base, "lock"),
	}
	vars := []struct{ key, value string }{
		{"NETDATA_UPDATE_EVERY", strconv.Itoa(ue)},
		{"NETDATA_PLUGINS_DIR", pluginsDir},
		{"NETDATA_USER_CONFIG_DIR", dirs["NETDATA_USER_CONFIG_DIR"]},
		{"NETDATA_STOCK_CONFIG_DIR", filepath.Join(filepath.Dir(pluginsDir), "conf.d")},
		{"NETDATA_LIB_DIR", dirs["NETDATA_LIB_DIR"]},
		{"NETDATA_CACHE_DIR", dirs["NETDATA_CACHE_DIR"]},
		{"NETDATA_LOG_DIR", dirs["NETDATA_LOG_DIR"]},
		{"NETDATA_LOCK_DIR", dirs["NETDATA_LOCK_DIR"]},
		{"NETDATA_HOST_PREFIX", ""},
		{"NETDATA_INTERNALS_MONITORING", "NO"},
	}
	set := map[string]bool{}
	for _, kv := range in.env {
		if k, _, ok := strings.Cut(kv, "="); ok {
			set[k] = true
		}
	}
	var env []string
	for _, v := range vars {
		if set[v.key] {
			continue
		}
		if dir, ok := dirs[v.key]; ok {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("creating %s for the plugin: %w", v.key, err)
			}
		}
		env = append(env, v.key+"="+v.value)
	}
	return env, nil
}

// safeName makes an input name usable as a file name.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r < ' ' {
			return '_'
		}
		return r
	}, name)
}
