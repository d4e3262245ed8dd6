package pythond

import (
	"context"
	"path/filepath"
	"strconv"
	"time"
)

// The datakit room: DataKit's DataKitFramework scripts, the default
// framework. Its options are Input.RunTimeout and Input.ExactInts; its
// Python folder is py/datakit (datakit_framework.py), its runner
// py/runtime/run_datakit.py. Its points come as D frames of the private
// channel, served by serve.go like every framework's reports.
var datakitRoom = room{
	name:    "datakit",
	options: []string{"run_timeout", "exact_ints"},
	set: func(in *Input) []string {
		var keys []string
		if in.RunTimeout != 0 {
			keys = append(keys, "run_timeout")
		}
		if in.ExactInts {
			keys = append(keys, "exact_ints")
		}
		return keys
	},
	start: startDataKit,
}

// datakitRunner and datakitFolder are the runner and the sys.path folder
// of the datakit framework, relative to the installed Python directory.
const (
	datakitRunner = "runtime/run_datakit.py"
	datakitFolder = "datakit"
)

func startDataKit(_ context.Context, _ *Supervisor, in *resolvedInput, pyDir string) (*launch, error) {
	args := []string{
		filepath.Join(pyDir, filepath.FromSlash(datakitRunner)),
		"--name", in.Name,
		"--run-timeout", strconv.FormatFloat(in.runTimeoutSeconds(), 'g', -1, 64),
		"--framework-dir", filepath.Join(pyDir, datakitFolder),
		"--",
	}
	return &launch{Args: append(args, in.dirs...), Channel: true}, nil
}

// runTimeoutSeconds is the --run-timeout argument: 0 for "the interval",
// negative for none.
func (in Input) runTimeoutSeconds() float64 {
	return time.Duration(in.RunTimeout).Seconds()
}
