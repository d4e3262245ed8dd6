//go:build linux

package pythond

import "syscall"

// sysProcAttr puts the child in its own process group, so that stopping
// it reaches everything it started, and has the kernel kill it if the host
// dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
