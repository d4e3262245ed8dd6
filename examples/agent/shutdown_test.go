package main

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request still running at the shutdown deadline (here a body that
// trickles in) is cancelled and its connection closed: the agent stops
// with status 0 instead of "http shutdown: context deadline exceeded".
func TestShutdownDoesNotWaitForATricklingRequest(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "a.toml", `listen = "127.0.0.1:0"
`)
	p := startAgent(t, "-config", cfg, "-out", filepath.Join(dir, "out"))
	conn, err := net.Dial("tcp", p.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /metrics/job/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n# TYPE m gauge\n")
	require.NoError(t, err)
	stopTrickle := make(chan struct{})
	defer close(stopTrickle)
	go func() {
		for {
			select {
			case <-stopTrickle:
				return
			case <-time.After(500 * time.Millisecond):
				if _, err := conn.Write([]byte("m")); err != nil {
					return
				}
			}
		}
	}()
	time.Sleep(time.Second)
	start := time.Now()
	code := p.stop(t)
	assert.Equal(t, 0, code, "agent stderr:\n%s", p.stderr.String())
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Contains(t, p.stderr.String(), "cancelled")
}
