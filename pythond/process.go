package pythond

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"
)

// errExitedZero is matched by runProcess's error for a process that
// exited with status 0.
var errExitedZero = errors.New("exited with status 0")

// errNoCollectors is matched by runProcess's error for a runner that
// exited as it found nothing to run (it said so before exiting); errStart
// by its error for a process that could not be started; errRestart by its
// error for a process stopped to be started again (its files changed).
var (
	errNoCollectors = errors.New("no collector could be started")
	errStart        = errors.New("could not start")
	errRestart      = errors.New("restarted")
)

// readerDrainTimeout bounds how long the pipes are read after the process
// group is gone; only a descendant that left the group can hold them open.
const readerDrainTimeout = 2 * time.Second

// runProcess starts in's process as its framework's room says and returns
// when it has exited (with the reason) or, once ctx is done, after
// stopping its process group. Every goroutine it starts has ended when it
// returns.
func (s *Supervisor) runProcess(ctx context.Context, in *resolvedInput, pyDir string) error {
	l, err := in.room.start(ctx, s, in, pyDir)
	if err != nil {
		return s.startFailed(ctx, in, err)
	}
	if l.Close != nil {
		defer l.Close()
	}
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
	var dataR, dataW, ackR, ackW *os.File
	var err1, err2 error
	if l.Channel {
		dataR, dataW, err1 = newPipe()
		ackR, ackW, err2 = newPipe()
	}
	outR, outW, err3 := newPipe()
	errR, errW, err4 := newPipe()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		closeAll()
		return s.startFailed(ctx, in, fmt.Errorf("creating pipes: %w", err))
	}

	cmd := exec.Command(in.cmdPath, l.Args...)
	cmd.Env = append(slices.Clip(in.env), l.Env...)
	if l.Channel {
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
		cmd.Env = append(cmd.Env, fdsEnv+"=3,4", lockEnv+"="+lock.Name())
		cmd.ExtraFiles = []*os.File{dataW, ackR} // fds 3 and 4
	}
	cmd.Dir = in.workdir
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		closeAll()
		return s.startFailed(ctx, in, err)
	}
	pid := cmd.Process.Pid
	in.unit.started(pid, time.Now())
	if in.script != "" {
		in.logger.Info(in.noun()+" started", "pid", pid, "cmd", in.cmdPath, "framework", in.Framework.String(), "file", in.script)
	} else {
		in.logger.Info(in.noun()+" started", "pid", pid, "cmd", in.cmdPath, "framework", in.Framework.String(), "dirs", in.dirs)
	}
	// The child has its own copies; ours would keep the pipes open.
	for _, f := range []*os.File{dataW, ackR, outW, errW} {
		if f != nil {
			f.Close()
		}
	}

	var readers sync.WaitGroup
	var fs *frameServer
	readers.Add(2)
	go func() {
		defer readers.Done()
		if l.Stdout != nil {
			l.Stdout(ctx, outR)
			_, _ = io.Copy(io.Discard, outR)
			return
		}
		captureLines(ctx, outR, in.logger, "stdout", pid)
	}()
	go func() {
		defer readers.Done()
		captureLines(ctx, errR, in.logger, "stderr", pid)
	}()
	if l.Channel {
		fs = &frameServer{s: s, in: in, ack: ackW, frames: l.Frames}
		readers.Add(1)
		go func() {
			defer readers.Done()
			fs.serve(ctx, dataR)
		}()
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	restarted := false
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		waitErr = s.stop(in, pid, exited)
	case <-in.restart:
		restarted = true
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
		if dataR != nil {
			dataR.Close()
		}
		outR.Close()
		errR.Close()
		<-drained
	}
	closeAll()
	how := "exit status 0"
	if waitErr != nil {
		how = waitErr.Error()
	}
	in.unit.exited(how, "", StateStarting)
	switch {
	case restarted:
		return errRestart
	case waitErr == nil:
		waitErr = fmt.Errorf("%s %w", in.noun(), errExitedZero)
	default:
		waitErr = fmt.Errorf("%s: %w", in.noun(), waitErr)
	}
	if fs != nil && fs.noCollectors {
		waitErr = fmt.Errorf("%w (%w)", waitErr, errNoCollectors)
	}
	return waitErr
}

// stop signals pid's process group with SIGTERM, waits StopGrace for the
// process to exit, then sends SIGKILL, and returns the process's exit.
func (s *Supervisor) stop(in *resolvedInput, pid int, exited <-chan error) error {
	if s.stopGrace > 0 {
		_ = killGroup(pid, syscall.SIGTERM)
		t := time.NewTimer(s.stopGrace)
		defer t.Stop()
		select {
		case err := <-exited:
			in.logger.Info(in.noun()+" stopped", "pid", pid)
			return err
		case <-t.C:
			in.logger.Warn(in.noun()+" did not stop after SIGTERM; killing it", "pid", pid, "grace", s.stopGrace)
		}
	}
	_ = killGroup(pid, syscall.SIGKILL)
	err := <-exited
	in.logger.Info(in.noun()+" stopped", "pid", pid)
	return err
}

func (s *Supervisor) startFailed(ctx context.Context, in *resolvedInput, err error) error {
	err = fmt.Errorf("starting %s: %w: %w", in.cmdPath, errStart, err)
	in.logger.Error(in.noun()+" could not start", "err", err)
	s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: in.scriptName(), Kind: KindStart, Message: err.Error()})
	return err
}

// noun names in's process in log records: "python process", or "plugin
// process" for a framework that runs a command of its own.
func (in *resolvedInput) noun() string {
	if in.room.noDefaultCmd {
		return "plugin process"
	}
	return "python process"
}
