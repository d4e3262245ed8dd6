//go:build unix && !linux

package pythond

import "syscall"

// sysProcAttr puts the child in its own process group, so that stopping
// it reaches everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
