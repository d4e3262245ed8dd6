package pythond

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long the watcher waits after the last change of an
// input's files before it restarts the input's process: an editor or a
// deploy writes several files, and a file several times, in a burst.
const watchDebounce = 700 * time.Millisecond

// watcher restarts the processes of inputs whose files change
// (Options.Watch). It watches each input's resolved dirs and their
// immediate subdirectories (as deep as the runners look for collectors),
// and a netdata input's conf_dir.
type watcher struct {
	s  *Supervisor
	fw *fsnotify.Watcher
	// watched are the directories being watched.
	watched map[string]bool
	// pending are the restarts waiting for their debounce, by the channel
	// to signal, with when to signal it.
	pending map[chan struct{}]time.Time
}

func (s *Supervisor) newWatcher() (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &watcher{s: s, fw: fw, watched: map[string]bool{}, pending: map[chan struct{}]time.Time{}}, nil
}

// rewatch asks the watcher, if there is one, to look at the inputs' dirs
// again.
func (s *Supervisor) rewatch() {
	if !s.watch {
		return
	}
	select {
	case s.rewatchCh <- struct{}{}:
	default:
	}
}

// run watches until ctx is done, then closes the watcher.
func (w *watcher) run(ctx context.Context) {
	defer w.fw.Close()
	w.sync()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.s.rewatchCh:
			w.sync()
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.s.logger.Warn("watching the inputs' dirs", "err", err)
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if !w.event(ev) {
				continue
			}
		case now := <-timer.C:
			for ch, at := range w.pending {
				if !at.After(now) {
					delete(w.pending, ch)
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			}
		}
		if len(w.pending) > 0 {
			next := time.Time{}
			for _, at := range w.pending {
				if next.IsZero() || at.Before(next) {
					next = at
				}
			}
			timer.Reset(max(time.Until(next), 0))
		}
	}
}

// sync adds a watch for every directory of every input not watched yet.
func (w *watcher) sync() {
	for _, in := range w.s.inputs {
		dirs, confDir := in.unit.watched()
		for _, d := range dirs {
			fi, err := os.Stat(d)
			if err != nil {
				continue
			}
			if !fi.IsDir() {
				w.add(filepath.Dir(d))
				continue
			}
			w.add(d)
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if e.IsDir() && !ignoredName(e.Name()) {
					w.add(filepath.Join(d, e.Name()))
				}
			}
		}
		if confDir != "" {
			w.add(confDir)
		}
	}
}

func (w *watcher) add(dir string) {
	if w.watched[dir] {
		return
	}
	if err := w.fw.Add(dir); err != nil {
		w.s.logger.Warn("cannot watch a dir; its changes will not restart its input", "dir", dir, "err", err)
		return
	}
	w.watched[dir] = true
}

// event handles one change; it returns whether a restart was scheduled.
func (w *watcher) event(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod || ignoredPath(ev.Name) {
		return false
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		delete(w.watched, ev.Name) // fsnotify drops its watch by itself
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
			w.sync() // a new subdirectory: watch it if it is one of ours
		}
	}
	scheduled := false
	for _, in := range w.s.inputs {
		ch, why := w.target(in, ev.Name)
		if ch == nil {
			continue
		}
		if _, ok := w.pending[ch]; !ok {
			in.logger.Info("file changed; restarting after a pause", "file", ev.Name, "op", ev.Op.String(), "restart", why)
		}
		w.pending[ch] = time.Now().Add(watchDebounce)
		scheduled = true
	}
	return scheduled
}

// target returns the restart channel that a change of path concerns for
// in, or nil: the script's own process for a framework of one process per
// script (the input's, to list its scripts again, for another file), else
// the input's.
func (w *watcher) target(in *resolvedInput, path string) (chan struct{}, string) {
	dirs, confDir := in.unit.watched()
	parent := filepath.Dir(path)
	ours := confDir != "" && (parent == confDir || path == confDir)
	for _, d := range dirs {
		if ours {
			break
		}
		if strings.HasSuffix(d, ".py") {
			ours = path == d
			continue
		}
		ours = path == d || parent == d || filepath.Dir(parent) == d
	}
	if !ours {
		return nil, ""
	}
	if in.room.scripts == nil {
		return in.restart, "input"
	}
	w.s.unitsMu.Lock()
	defer w.s.unitsMu.Unlock()
	if i := slices.IndexFunc(in.procs, func(p *resolvedInput) bool { return p.script == path }); i >= 0 {
		return in.procs[i].restart, "script"
	}
	return in.restart, "input"
}

// ignoredPath is true for files whose change restarts nothing: editors'
// swap, backup and temporary files, and compiled Python.
func ignoredPath(path string) bool {
	if strings.Contains(path, string(filepath.Separator)+"__pycache__"+string(filepath.Separator)) {
		return true
	}
	return ignoredName(filepath.Base(path))
}

func ignoredName(name string) bool {
	switch {
	case name == "__pycache__", name == "4913": // vim's probe file
		return true
	case strings.HasPrefix(name, "."), strings.HasPrefix(name, "#"), strings.HasSuffix(name, "~"):
		return true
	}
	switch filepath.Ext(name) {
	case ".pyc", ".pyo", ".swp", ".swx", ".swo", ".tmp", ".bak", ".orig":
		return true
	}
	return false
}
