package pythond

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The netdata-plugin room: any Netdata external plugin (cmd, run
// directly with args) whose stdout is the plugins.d text protocol; no
// private channel.

// NetdataPluginOptions are the options of framework netdata-plugin.
type NetdataPluginOptions struct {
	// Args are the plugin's arguments, update_every first as Netdata
	// passes them. Empty means just update_every.
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
	start: func(context.Context, *Supervisor, *resolvedInput, string) (*launch, error) {
		return nil, errors.New("framework netdata-plugin: the chart engine is not built in yet")
	},
}
