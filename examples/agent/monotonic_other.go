//go:build !linux

package main

import "time"

// monotonicMicros stands in for CLOCK_MONOTONIC where the agent does not
// read it; systemd only runs on Linux.
func monotonicMicros() int64 { return time.Now().UnixMicro() }
