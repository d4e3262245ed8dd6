//go:build unix && !linux

package pythond

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so that stopping
// it reaches everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// growPipe does nothing: pipe buffers cannot be resized here.
func growPipe(*os.File) {}
