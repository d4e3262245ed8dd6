package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// GoBuild builds one Go command for the tests of a package, once per test
// binary run however many tests ask for it. Declare it as a package
// variable and call Remove from TestMain after the tests.
type GoBuild struct {
	// Pkg is the package to build, as "go build" takes it ("." or
	// "../examples/agent"); Name is the executable's file name.
	Pkg, Name string

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the command the first time it is called and returns the
// executable's path; a failed build fails every test that asks.
func (b *GoBuild) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "collectkit-build-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, b.Name)
		out, err := exec.Command("go", "build", "-o", b.path, b.Pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.Pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Remove deletes what Path built, if anything.
func (b *GoBuild) Remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}
