package testkit

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// SystemPython is Debian's interpreter, the one that sees the python3-*
// packages the tests use as oracles.
const SystemPython = "/usr/bin/python3"

// Python returns the path of SystemPython after checking that it can
// import every one of modules (none: that it runs at all). When it cannot,
// the test is skipped, or failed when the environment variable CI is set,
// since CI installs everything the tests use. The message names the Debian
// package of each missing module.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	Program(t, SystemPython)
	script := "pass"
	if len(modules) > 0 {
		script = "import " + strings.Join(modules, ", ")
	}
	out, err := exec.Command(SystemPython, "-c", script).CombinedOutput()
	if err == nil {
		return SystemPython
	}
	why := strings.TrimSpace(string(out))
	if why == "" {
		why = err.Error()
	}
	if len(modules) == 0 {
		missing(t, "%s does not run: %s", SystemPython, why)
		return ""
	}
	pkgs := make([]string, len(modules))
	for i, m := range modules {
		pkgs[i] = "python3-" + strings.ReplaceAll(m, "_", "-")
	}
	missing(t, "%s cannot import %s (apt-get install %s): %s", SystemPython, strings.Join(modules, ", "), strings.Join(pkgs, " "), why)
	return ""
}

// Program checks that the program at path exists. When it does not, the
// test is skipped, or failed when the environment variable CI is set.
func Program(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, "%s is missing: %v", path, err)
	}
}

// missing skips t, or fails it under CI, with a message saying what is
// missing.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set, which installs every program the tests use, but "+format, args...)
	}
	t.Skipf(format+"; set CI to make this a failure", args...)
}
