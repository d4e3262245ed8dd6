package pythond

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// readerDrainTimeout bounds how long the pipes are read after the process
// group is gone; only a descendant that left the group can hold them open.
const readerDrainTimeout = 2 * time.Second

// runProcess starts in's Python process and returns when it has exited
// (with the reason) or, once ctx is done, after stopping its process
// group. Every goroutine it starts has ended when it returns.
func (s *Supervisor) runProcess(ctx context.Context, in *resolvedInput, pyDir string) error {
	var pipes []*os.File
	closeAll := func() {
		for _, f := range pipes {
			f.Close()
		}
	}
	newPipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			pipes = append(pipes, r, w)
		}
		return r, w, err
	}
	dataR, dataW, err1 := newPipe()
	ackR, ackW, err2 := newPipe()
	outR, outW, err3 := newPipe()
	errR, errW, err4 := newPipe()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		closeAll()
		return s.startFailed(ctx, in, fmt.Errorf("creating pipes: %w", err))
	}

	// Processes the collectors fork share the pipes; they take turns
	// through flock on this file (see _collectkit_channel.py).
	lock, err := os.CreateTemp("", "collectkit-pythond-*.lock")
	if err != nil {
		closeAll()
		return s.startFailed(ctx, in, fmt.Errorf("creating the channel lock file: %w", err))
	}
	lock.Close()
	defer os.Remove(lock.Name())

	growPipe(dataW)
	args := []string{filepath.Join(pyDir, runnerScript), "--name", in.Name, "--run-timeout", strconv.FormatFloat(in.runTimeoutSeconds(), 'g', -1, 64), "--"}
	args = append(args, in.dirs...)
	cmd := exec.Command(in.cmdPath, args...)
	cmd.Env = append(slices.Clip(in.env), lockEnv+"="+lock.Name())
	cmd.Dir = in.workdir
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.ExtraFiles = []*os.File{dataW, ackR} // fds 3 and 4
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		closeAll()
		return s.startFailed(ctx, in, err)
	}
	pid := cmd.Process.Pid
	in.logger.Info("python process started", "pid", pid, "cmd", in.cmdPath, "dirs", in.dirs)
	// The child has its own copies; ours would keep the pipes open.
	dataW.Close()
	ackR.Close()
	outW.Close()
	errW.Close()

	var readers sync.WaitGroup
	readers.Add(3)
	go func() {
		defer readers.Done()
		captureLines(ctx, outR, in.logger, "stdout", pid)
	}()
	go func() {
		defer readers.Done()
		captureLines(ctx, errR, in.logger, "stderr", pid)
	}()
	go func() {
		defer readers.Done()
		s.serveFrames(ctx, in, dataR, ackW)
	}()

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		waitErr = s.stop(in, pid, exited)
	}
	// Whatever the child left behind in its group goes too.
	_ = killGroup(pid, syscall.SIGKILL)

	drained := make(chan struct{})
	go func() {
		readers.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(readerDrainTimeout):
		in.logger.Warn("a process outside the group holds the collector's pipes open; closing them", "pid", pid)
		dataR.Close()
		outR.Close()
		errR.Close()
		<-drained
	}
	closeAll()
	if waitErr == nil {
		waitErr = errors.New("python process exited with status 0")
	} else {
		waitErr = fmt.Errorf("python process: %w", waitErr)
	}
	if ee := (*exec.ExitError)(nil); errors.As(waitErr, &ee) && ee.ExitCode() == exitNoCollectors {
		waitErr = fmt.Errorf("%w (no collector could be started)", waitErr)
	}
	return waitErr
}

// exitNoCollectors is the runner's exit status when it found nothing to run.
const exitNoCollectors = 3

// stop signals pid's process group with SIGTERM, waits StopGrace for the
// process to exit, then sends SIGKILL, and returns the process's exit.
func (s *Supervisor) stop(in *resolvedInput, pid int, exited <-chan error) error {
	if s.stopGrace > 0 {
		_ = killGroup(pid, syscall.SIGTERM)
		t := time.NewTimer(s.stopGrace)
		defer t.Stop()
		select {
		case err := <-exited:
			in.logger.Info("python process stopped", "pid", pid)
			return err
		case <-t.C:
			in.logger.Warn("python process did not stop after SIGTERM; killing it", "pid", pid, "grace", s.stopGrace)
		}
	}
	_ = killGroup(pid, syscall.SIGKILL)
	err := <-exited
	in.logger.Info("python process stopped", "pid", pid)
	return err
}

func (s *Supervisor) startFailed(ctx context.Context, in *resolvedInput, err error) error {
	err = fmt.Errorf("starting %s: %w", in.cmdPath, err)
	in.logger.Error("python process could not start", "err", err)
	s.report(ctx, CollectorError{Name: in.Name, Input: in.Name, Kind: KindStart, Message: err.Error()})
	return err
}

// runTimeoutSeconds is the --run-timeout argument: 0 for "the interval",
// negative for none.
func (in Input) runTimeoutSeconds() float64 {
	return time.Duration(in.RunTimeout).Seconds()
}
