package pythond

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pyFS holds the Python side: the private runtime (py/runtime: channel,
// loader, scheduler, one runner per framework) and one folder per
// framework (py/datakit, py/netdata). Compiled caches are left out when
// it is installed.
//
//go:embed all:py
var pyFS embed.FS

// installedMarker is a file every complete installation has.
const installedMarker = "runtime/_collectkit_channel.py"

// installPython writes the embedded Python package to a directory under
// stateDir named after the hash of its contents, and returns that
// directory. An existing directory with that name is reused as it is: its
// name is its content. The directory is built under a temporary name and
// renamed into place, so a concurrent installer or a crash never leaves a
// half-written package, and nothing else under stateDir is touched.
func installPython(stateDir string) (string, error) {
	files, sum, err := embeddedFiles()
	if err != nil {
		return "", err
	}
	parent := filepath.Join(stateDir, "pythond")
	final := filepath.Join(parent, "py-"+sum[:16])
	if fi, err := os.Stat(filepath.Join(final, filepath.FromSlash(installedMarker))); err == nil && fi.Mode().IsRegular() {
		return final, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("pythond: creating state directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-")
	if err != nil {
		return "", fmt.Errorf("pythond: creating state directory: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	for _, name := range sortedKeys(files) {
		path := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("pythond: installing %s: %w", name, err)
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return "", fmt.Errorf("pythond: installing %s: %w", name, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("pythond: installing Python package: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another installer won the race: its copy is identical.
		if _, serr := os.Stat(filepath.Join(final, filepath.FromSlash(installedMarker))); serr == nil {
			return final, nil
		}
		return "", fmt.Errorf("pythond: installing Python package: %w", err)
	}
	return final, nil
}

// embeddedFiles returns the embedded files by slash-separated path
// under py/ and the hex SHA-256 of their names and contents. Compiled
// caches (__pycache__, *.pyc) and dot files are not part of it.
func embeddedFiles() (map[string][]byte, string, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(pyFS, "py", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != "py" && (strings.HasPrefix(name, ".") || name == "__pycache__") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(name, ".pyc") {
			return nil
		}
		b, err := pyFS.ReadFile(p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, "py/")] = b
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	h := sha256.New()
	for _, name := range sortedKeys(files) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(files[name]))
		h.Write(files[name])
	}
	if len(files) == 0 {
		return nil, "", errors.New("pythond: no embedded Python files")
	}
	return files, hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// defaultStateDir is where the Python package goes when Options.StateDir
// is empty.
func defaultStateDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "collectkit")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("collectkit-%d", os.Getuid()))
}
