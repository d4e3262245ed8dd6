package pythond

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSmoke(t *testing.T) {
	h := newHarness(t)
	h.write("demo/demo.py", `
from datakit_framework import DataKitFramework

class Demo(DataKitFramework):
    name = 'Demo'
    interval = 0.2

    def run(self):
        print("hello from run")
        r = self.feed_metric(measurement="m", tags={"t": "v"}, fields={"f": 1, "g": 2.5})
        print("result=%r" % r)
`)
	h.start(h.options(Input{Dirs: []string{"demo"}, Tags: map[string]string{"host": "h1"}}))
	pts := h.waitPoints(2, 10*time.Second)
	t.Log(pts[0].String())
	h.stop()
	t.Log(h.logs.dump())
	assert.Equal(t, "m", pts[0].Name)
}
