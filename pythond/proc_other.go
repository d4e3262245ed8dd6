//go:build !unix

package pythond

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to add where there are no process groups.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// growPipe does nothing: pipe buffers cannot be resized here.
func growPipe(*os.File) {}

// killGroup kills the process itself: without process groups its own
// children are not reached.
func killGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
