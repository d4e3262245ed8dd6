package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listenNotify opens a unix datagram socket as the service manager does
// and returns it with the name to put in NOTIFY_SOCKET.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readDatagram returns the next datagram on conn. The deadline only keeps
// a missing datagram from hanging the test.
func readDatagram(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	buf := make([]byte, 4096)
	n, _, err := conn.ReadFromUnix(buf)
	require.NoError(t, err)
	return string(buf[:n])
}

func TestSdNotify(t *testing.T) {
	// Paths of unix sockets are limited to 108 bytes, which a deep
	// TMPDIR would pass; the socket goes in a short directory of its own.
	dir, err := os.MkdirTemp("", "sdn")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	tests := []struct {
		name   string
		socket string
	}{
		{"path", filepath.Join(dir, "notify")},
		{"abstract", fmt.Sprintf("@collectkit-sdnotify-test-%d", os.Getpid())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := listenNotify(t, tt.socket)
			t.Setenv("NOTIFY_SOCKET", tt.socket)

			require.NoError(t, sdNotify("READY=1"))
			assert.Equal(t, "READY=1", readDatagram(t, conn))

			// Several assignments travel in one datagram, as systemd
			// needs RELOADING=1 and MONOTONIC_USEC together.
			state := "RELOADING=1\nMONOTONIC_USEC=123456789"
			require.NoError(t, sdNotify(state))
			assert.Equal(t, state, readDatagram(t, conn))

			require.NoError(t, sdNotify("STOPPING=1"))
			assert.Equal(t, "STOPPING=1", readDatagram(t, conn))
		})
	}
}

func TestSdNotifyUnset(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	assert.NoError(t, sdNotify("READY=1"))
}

func TestSdNotifyErrors(t *testing.T) {
	dir, err := os.MkdirTemp("", "sdn")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	tests := []struct {
		name   string
		socket string
		want   string // in the error
	}{
		{"no listener", filepath.Join(dir, "missing"), "missing"},
		{"relative path", "notify.sock", `NOTIFY_SOCKET="notify.sock"`},
		{"vsock", "vsock:2:1234", `NOTIFY_SOCKET="vsock:2:1234"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tt.socket)
			err := sdNotify("READY=1")
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), tt.want), "error %q does not name %q", err, tt.want)
		})
	}
}
