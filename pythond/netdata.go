package pythond

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The netdata room: Netdata python.d modules run unchanged by collectkit's
// runtime (py/runtime/run_netdata.py, sys.path folder py/netdata).

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
	start: func(context.Context, *Supervisor, *resolvedInput, string) (*launch, error) {
		return nil, errors.New("framework netdata: the chart engine is not built in yet")
	},
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
