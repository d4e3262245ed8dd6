package forward

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The crash test re-runs the test binary as a child that forwards with a
// real buffer and prints "acked N" after each Write returns nil; the
// parent kills it with SIGKILL mid-stream and checks that a new forwarder
// on the same directory delivers every acknowledged point.
const (
	crashChildEnv = "FORWARD_CRASH_CHILD_DIR"
	crashURLEnv   = "FORWARD_CRASH_CHILD_URL"
	crashBaseEnv  = "FORWARD_CRASH_CHILD_BASE"
)

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashKill9 (runs only as its child)")
	}
	baseMs, err := strconv.ParseInt(os.Getenv(crashBaseEnv), 10, 64)
	require.NoError(t, err)
	base := time.UnixMilli(baseMs)
	f, err := New(Options{URL: os.Getenv(crashURLEnv), BufferDir: dir, Concurrency: 1, BatchPoints: 2000, Sync: SyncNever})
	require.NoError(t, err)
	go func() { _ = f.Run(context.Background()) }()
	var dec protocol.Decoder
	for i := 0; ; i += 1000 {
		pts, err := dec.DecodeLineProtocol(vmLines(nil, base, i, 1000), protocol.Options{Precision: protocol.Nanosecond})
		require.NoError(t, err)
		require.NoError(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: pts}))
		fmt.Printf("acked %d\n", i+1000)
		if i%20000 == 0 {
			time.Sleep(5 * time.Millisecond) // let delivery interleave with writing
		}
	}
}

func TestCrashKill9(t *testing.T) {
	tests := []struct {
		name        string
		backendDown bool
	}{
		{"backend up, delivery in progress", false},
		{"backend down, everything buffered", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := startVictoria(t)
			if tt.backendDown {
				vm.stop()
			}
			dir := t.TempDir()
			base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
			cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$", "-test.v")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashURLEnv+"="+vm.URL()+"/write",
				crashBaseEnv+"="+strconv.FormatInt(base.UnixMilli(), 10))
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Start())
			acked := 0
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
					acked, err = strconv.Atoi(n)
					require.NoError(t, err)
					if acked >= 200_000 {
						break
					}
				}
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			_ = cmd.Wait()
			require.GreaterOrEqual(t, acked, 200_000, "the child stopped before acknowledging enough")

			if tt.backendDown {
				vm.start()
			}
			f, err := New(Options{URL: vm.URL() + "/write", BufferDir: dir})
			require.NoError(t, err)
			buffered := f.Stats().BufferedPoints
			runForwarder(t, f)
			flush(t, f, time.Minute)
			got := vm.samples("fwd_v", acked)
			// The child may have written more than it could print before
			// the kill: count only what it acknowledged, and ignore the rest.
			for id := range got {
				if id >= acked {
					delete(got, id)
				}
			}
			dups := checkExactlyOnce(t, got, acked, true)
			t.Logf("killed after %d acknowledged points; %d were in the buffer at restart; %d delivered twice (at-least-once across a crash)", acked, buffered, dups)
			if tt.backendDown {
				assert.GreaterOrEqual(t, buffered, int64(acked))
				assert.Zero(t, dups)
			}
		})
	}
}
