package netdata_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond/internal/netdata"
)

// Two updates of one chart, as python.d.plugin prints them: an absolute
// dimension and a per-second counter with a multiplier of 8 (bytes to
// bits).
const pluginOutput = `CHART example_local.net '' 'Traffic' 'bits/s' 'net' 'example.net' line 60000 1 '' 'python.d.plugin' 'example'
CLABEL '_collect_job' 'local' '0'
CLABEL 'iface' 'eth0' '1'
CLABEL_COMMIT
DIMENSION 'up' 'link up' absolute 1 1 ' '
DIMENSION 'rx' 'received' incremental 8 1 ' '
BEGIN example_local.net 0
SET 'up' = 1
SET 'rx' = 1000
END

BEGIN example_local.net 2000000
SET 'up' = 1
SET 'rx' = 3000
END
`

func ExampleEngine_Feed() {
	e := netdata.New(netdata.Options{})
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []point.Point
	for _, line := range strings.SplitAfter(pluginOutput, "\n") {
		if line == "\n" {
			t = t.Add(2 * time.Second)
		}
		var err error
		if pts, err = e.Feed(pts, []byte(line), t); err != nil {
			fmt.Println(err)
		}
	}
	for _, p := range pts {
		fmt.Println(p)
	}
	// Output:
	// example.net,job=local,chart=example_local.net,family=net,module=example,iface=eth0 link up=1 2026-01-01T00:00:00Z
	// example.net,job=local,chart=example_local.net,family=net,module=example,iface=eth0 link up=1,received=8000 2026-01-01T00:00:02Z
}

func ExampleEngine_Read() {
	e := netdata.New(netdata.Options{DimensionIDs: true})
	input := strings.NewReader(pluginOutput + "SET 'rx' = 1\nDISABLE\n")
	err := e.Read(context.Background(), input, func(pts []point.Point) error {
		for _, p := range pts {
			fmt.Println(p.Name, p.Fields)
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// example.net [{up 1}]
	// example.net [{up 1} {rx 8000}]
	// netdata: plugin sent DISABLE
}

func ExampleLineError() {
	e := netdata.New(netdata.Options{})
	_, err := e.Feed(nil, []byte("DIMENSION 'rx'\n"), time.Now())
	fmt.Println(err)
	// Output:
	// netdata: line 1: DIMENSION: no current chart: DIMENSION before any CHART
}
