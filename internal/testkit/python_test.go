package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordTB records the first skip or failure instead of ending the test,
// so the tests below can see what the helpers would have done.
type recordTB struct {
	testing.TB
	skip, fatal string
}

func (r *recordTB) Helper() {}

func (r *recordTB) Skipf(format string, args ...any) {
	if r.skip == "" && r.fatal == "" {
		r.skip = fmt.Sprintf(format, args...)
	}
}

func (r *recordTB) Fatalf(format string, args ...any) {
	if r.skip == "" && r.fatal == "" {
		r.fatal = fmt.Sprintf(format, args...)
	}
}

func TestPythonFindsTheSystemInterpreter(t *testing.T) {
	python := Python(t, "json", "os")
	assert.Equal(t, SystemPython, python)
}

func TestMissingIsASkipOrUnderCIAFailure(t *testing.T) {
	Python(t) // the cases below need a running interpreter
	absent := filepath.Join(t.TempDir(), "no-such-program")
	tests := []struct {
		name string
		ci   string
		run  func(tb testing.TB)
		want string // in the message
	}{
		{"missing module", "", func(tb testing.TB) { Python(tb, "json", "no_such_module_xyz") }, "apt-get install python3-json python3-no-such-module-xyz"},
		{"missing module under CI", "true", func(tb testing.TB) { Python(tb, "no_such_module_xyz") }, "No module named 'no_such_module_xyz'"},
		{"missing program", "", func(tb testing.TB) { Program(tb, absent) }, absent + " is missing"},
		{"missing program under CI", "1", func(tb testing.TB) { Program(tb, absent) }, absent + " is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			if tt.ci == "" {
				require.NoError(t, os.Unsetenv("CI"))
			}
			r := &recordTB{TB: t}
			tt.run(r)
			if tt.ci == "" {
				assert.Empty(t, r.fatal)
				assert.Contains(t, r.skip, tt.want)
				assert.Contains(t, r.skip, "set CI to make this a failure")
			} else {
				assert.Empty(t, r.skip)
				assert.Contains(t, r.fatal, tt.want)
				assert.Contains(t, r.fatal, "CI is set")
			}
		})
	}
}

func TestProgramPresent(t *testing.T) {
	r := &recordTB{TB: t}
	exe, err := os.Executable()
	require.NoError(t, err)
	Program(r, exe)
	assert.Empty(t, r.skip)
	assert.Empty(t, r.fatal)
}
