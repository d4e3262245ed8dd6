package netdataconf_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/collectkit/collectkit/pythond/internal/netdataconf"
)

func Example() {
	dir, _ := os.MkdirTemp("", "netdataconf")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "example.chart.py"), nil, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "example.conf"), []byte(`
update_every: 2
two_lines:
  name: "Two Lines"
  num_lines: 2
three:
  num_lines: 1
  priority: 70000
`), 0o644)

	f, err := netdataconf.Resolve(netdataconf.Options{ModuleDirs: []string{dir}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, j := range f.Modules[0].Jobs {
		fmt.Println(j.ActualName(), j.UpdateEvery, j.Priority, j.Explicit)
	}
	// Output:
	// Two_Lines 2 60000 [update_every]
	// three 2 70000 [update_every priority]
}
