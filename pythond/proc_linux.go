//go:build linux

package pythond

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so that stopping
// it reaches everything it started, and has the kernel kill it if the host
// dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// growPipe asks for a pipe buffer of up to 1 MiB, so that a report of a few
// thousand points is written in one go instead of in 64 KiB steps, each
// waiting for the reader. Failure is harmless: the pipe keeps its size.
func growPipe(f *os.File) {
	const fSetPipeSz = 1031 // F_SETPIPE_SZ
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, 1<<20)
		})
	}
}
