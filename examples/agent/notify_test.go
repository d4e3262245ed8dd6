package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// Under systemd (Type=notify) the agent says READY=1 once listening with
// its inputs started, RELOADING=1 with the monotonic time and READY=1
// again around a reload, and STOPPING=1 at shutdown.
func TestServiceManagerNotifications(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	require.NoError(t, err)
	defer conn.Close()
	msgs := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(15 * time.Second):
			t.Fatal("no notification within 15s")
			return ""
		}
	}
	cfg := writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n")
	cmd := exec.Command(agentBinary(t), "-config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	assert.Equal(t, "READY=1", next())
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	assert.Regexp(t, regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=\d+$`), next())
	assert.Equal(t, "READY=1", next())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, "STOPPING=1", next())
	require.NoError(t, cmd.Wait())
	assert.NotContains(t, stderr.String(), "notification failed")
}

// Rejected writes are logged at the default level (info shows the Warn
// summary of httpapi).
func TestRejectedWritesAreLoggedByDefault(t *testing.T) {
	p := startAgent(t, "-config", writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n"))
	code, _ := p.post(t, "/v1/write/metric", "", "no fields here\n")
	require.Equal(t, 400, code)
	waitFor(t, 10*time.Second, "the rejection in the log", func() bool {
		return strings.Contains(p.stderr.String(), "level=WARN") && strings.Contains(p.stderr.String(), "rejected")
	})
	assert.Equal(t, 0, p.stop(t))
}
