package collectdconf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/collectkit/collectkit/pythond/internal/collectdconf"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "collectdconf-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "collectd.conf"), []byte(`Hostname "web01"
Interval 5
LoadPlugin cpu
LoadPlugin python
<Plugin python>
  ModulePath "/opt/collectd/python"
  Import "cpu_temp"
  <Module cpu_temp>
    Path "/sys/class/thermal" 42 true
  </Module>
</Plugin>
`), 0o644)
	cfg, err := collectdconf.Load("collectd.conf", collectdconf.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Hostname, cfg.Interval, cfg.Skipped)
	for _, it := range cfg.Python.Items {
		switch it.Kind {
		case collectdconf.ItemModulePath:
			fmt.Println(it.Kind, it.Path)
		case collectdconf.ItemImport:
			fmt.Println(it.Kind, it.Module)
		case collectdconf.ItemModule:
			fmt.Println(it.Kind, it.Name)
			fmt.Println(it.Config)
		}
	}
	// Output:
	// web01 5s [cpu]
	// module_path /opt/collectd/python
	// import cpu_temp
	// module cpu_temp
	// <Module "cpu_temp">
	//   Path "/sys/class/thermal" 42 true
	// </Module>
}

func ExampleLoad_error() {
	dir, _ := os.MkdirTemp("", "collectdconf-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "c.conf"), []byte("LoadPlugin python\n<Plugin python>\n  ModulePath /opt/py\n</Plugin>\n"), 0o644)
	_, err := collectdconf.Load("c.conf", collectdconf.Options{Dir: dir})
	fmt.Println(strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)))
	// Output:
	// c.conf:3: syntax error: expected a value or the end of the line, found '/' (a '/' outside quotes: quote values such as paths)
}
