package pythond

import "context"

// watcher restarts the processes of inputs whose files change.
type watcher struct{ s *Supervisor }

func (s *Supervisor) newWatcher() (*watcher, error) { return &watcher{s: s}, nil }

func (w *watcher) run(ctx context.Context) { <-ctx.Done() }
