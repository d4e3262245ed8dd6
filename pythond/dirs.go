package pythond

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrBadDir is matched by the errors New returns for a directory in
// Input.Dirs that does not exist, cannot be read or leaves its root.
var ErrBadDir = errors.New("bad collector directory")

// roots says where relative Dirs are looked up.
type roots struct {
	root     string // python.d root
	gitRepos string // gitrepos directory; "" when git-repo mode is off
	gitRepo  string // repository name; "" means every repository, sorted
}

// candidates returns the bases a relative dir is looked up in, in order.
func (r roots) candidates() []string {
	var bases []string
	if r.gitRepos != "" {
		if r.gitRepo != "" {
			bases = append(bases, filepath.Join(r.gitRepos, r.gitRepo, "python.d"))
		} else if entries, err := os.ReadDir(r.gitRepos); err == nil {
			names := make([]string, 0, len(entries))
			for _, e := range entries {
				if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					names = append(names, e.Name())
				}
			}
			sort.Strings(names)
			for _, n := range names {
				bases = append(bases, filepath.Join(r.gitRepos, n, "python.d"))
			}
		}
	}
	return append(bases, r.root)
}

// resolve returns the absolute path of dir. An absolute dir is taken as the
// user wrote it. A relative one must stay inside its base, also after
// symbolic links are followed, and is looked up in git-repo mode first
// (gitrepos/<repo>/python.d/<dir>), then under the python.d root.
func (r roots) resolve(key, dir string) (string, error) {
	bad := func(format string, args ...any) error {
		return &ConfigError{Key: key, Err: fmt.Errorf("%w: "+format, append([]any{ErrBadDir}, args...)...)}
	}
	if filepath.IsAbs(dir) {
		if err := readable(dir); err != nil {
			return "", bad("%v", err)
		}
		return filepath.Clean(dir), nil
	}
	clean := filepath.Clean(dir)
	if !filepath.IsLocal(clean) {
		return "", bad("%q leaves the python.d root; write an absolute path to use a directory elsewhere", dir)
	}
	var tried []string
	for _, base := range r.candidates() {
		absBase, err := filepath.Abs(base)
		if err != nil {
			return "", bad("%v", err)
		}
		p := filepath.Join(absBase, clean)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			tried = append(tried, p)
			continue
		}
		realBase, err := filepath.EvalSymlinks(absBase)
		if err != nil {
			return "", bad("%v", err)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", bad("%v", err)
		}
		if rel, err := filepath.Rel(realBase, real); err != nil || !filepath.IsLocal(rel) {
			return "", bad("%s is a symbolic link to %s, outside %s", p, real, realBase)
		}
		if err := readable(p); err != nil {
			return "", bad("%v", err)
		}
		return p, nil
	}
	return "", bad("%q does not exist (looked for %s)", dir, strings.Join(tried, ", "))
}

// readable checks that p is a directory that can be listed or a file that
// can be opened.
func readable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.ReadDir(1)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("cannot list %s: %w", p, err)
		}
		return nil
	}
	if !strings.HasSuffix(p, ".py") {
		return fmt.Errorf("%s is neither a directory nor a .py file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	return f.Close()
}
