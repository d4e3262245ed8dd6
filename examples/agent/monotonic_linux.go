package main

import (
	"syscall"
	"time"
	"unsafe"
)

// monotonicMicros is CLOCK_MONOTONIC in microseconds, as systemd's
// RELOADING=1 notification wants it.
func monotonicMicros() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return time.Now().UnixMicro()
	}
	return ts.Sec*1e6 + ts.Nsec/1e3
}
