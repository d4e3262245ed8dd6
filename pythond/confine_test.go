package pythond

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A .py file in an allowed dir that is a symbolic link out of the python.d
// root is not loaded, and the log says why; the dir's own files still run.
func TestSymlinkedScriptOutsideRootIsSkipped(t *testing.T) {
	h := newHarness(t)
	outside := t.TempDir()
	collector := `from datakit_framework import DataKitFramework


class %s(DataKitFramework):
    name = "%s"
    interval = 1

    def run(self):
        self.feed_metric(measurement="%s", fields={"v": 1})
`
	require.NoError(t, os.WriteFile(filepath.Join(outside, "evil.py"), []byte(fmt.Sprintf(collector, "Evil", "evil", "evil")), 0o644))
	h.write("jail/good.py", fmt.Sprintf(collector, "Good", "good", "good"))
	require.NoError(t, os.Symlink(filepath.Join(outside, "evil.py"), filepath.Join(h.root, "jail", "evil.py")))
	require.NoError(t, os.MkdirAll(filepath.Join(h.root, "jail", "pkg"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(outside, "evil.py"), filepath.Join(h.root, "jail", "pkg", "evil2.py")))

	h.start(h.options(Input{Dirs: []string{"jail"}}))
	pts := h.waitPoints(2, 20*time.Second)
	for _, p := range pts {
		assert.Equal(t, "good", p.Name)
	}
	recs := h.logs.waitLog(t, "outside", 2, 10*time.Second)
	assert.Contains(t, recs[0].Message+recs[1].Message, "evil")
	assert.Empty(t, h.logs.find("running 2 collector"), "the linked file must not be loaded")
}

// A Netdata module file linked from outside its dir is not run; the
// reason is an error of the input.
func TestSymlinkedNetdataModuleIsSkipped(t *testing.T) {
	h := newHarness(t)
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "evil.chart.py"), []byte("raise SystemExit('loaded')\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(h.root, "nd"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(outside, "evil.chart.py"), filepath.Join(h.root, "nd", "evil.chart.py")))
	h.start(h.options(Input{Framework: FrameworkNetdata, Dirs: []string{"nd"}}))
	errs := h.errs.wait(t, KindInit, 1, 20*time.Second)
	assert.Contains(t, errs[0].Message, "outside")
}
