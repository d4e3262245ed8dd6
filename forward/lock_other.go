//go:build !unix

package forward

import (
	"fmt"
	"os"
)

// lockDir opens the lock file; on this platform there is no advisory lock,
// so sharing a buffer directory is not detected.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("forward: buffer lock: %w", err)
	}
	return f, nil
}

func unlockDir(f *os.File) { _ = f.Close() }
