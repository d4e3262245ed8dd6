package collectd

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SecurityLevel is what a receiver of the binary network protocol demands,
// as collectd's network plugin's SecurityLevel option: None accepts every
// value list, Sign only those covered by a valid signature or inside a
// valid encrypted part, Encrypt only those inside a valid encrypted part.
type SecurityLevel uint8

// The security levels. The zero value is None.
const (
	None SecurityLevel = iota
	Sign
	Encrypt
)

var securityLevelNames = [...]string{"None", "Sign", "Encrypt"}

// String returns "None", "Sign" or "Encrypt" (collectd's spelling), or
// "SecurityLevel(N)".
func (l SecurityLevel) String() string {
	if int(l) < len(securityLevelNames) {
		return securityLevelNames[l]
	}
	return "SecurityLevel(" + strconv.Itoa(int(l)) + ")"
}

// ParseSecurityLevel parses "None", "Sign" or "Encrypt",
// case-insensitively.
func ParseSecurityLevel(s string) (SecurityLevel, error) {
	for i, n := range securityLevelNames {
		if strings.EqualFold(s, n) {
			return SecurityLevel(i), nil
		}
	}
	return 0, fmt.Errorf("collectd: unknown security level %q (want None, Sign or Encrypt)", s)
}

// MarshalText returns l's String form; an invalid level is an error.
func (l SecurityLevel) MarshalText() ([]byte, error) {
	if int(l) >= len(securityLevelNames) {
		return nil, fmt.Errorf("collectd: invalid security level %d", uint8(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText parses text as ParseSecurityLevel does.
func (l *SecurityLevel) UnmarshalText(text []byte) error {
	v, err := ParseSecurityLevel(string(text))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Passwords looks up the password of a user who signs or encrypts network
// packets. Implementations must be safe for concurrent use.
type Passwords interface {
	Password(user string) (password string, ok bool)
}

// PasswordMap is a fixed set of users and their passwords.
type PasswordMap map[string]string

// Password returns the password of user.
func (m PasswordMap) Password(user string) (string, bool) {
	p, ok := m[user]
	return p, ok
}

// AuthFile is the users and passwords of a file in the format of collectd's
// network plugin AuthFile option: one "user: password" per line, read as
// collectd reads it (blanks before the user and after the colon are
// skipped, the user ends at the colon, the password at the end of the
// line; lines starting with '#' and lines without a colon are ignored).
// The file is read again when its modification time, size or inode
// changes, so edits take effect without a restart; while it cannot be
// read, no user is known. An AuthFile is safe for concurrent use.
type AuthFile struct {
	path string

	mu      sync.Mutex
	checked time.Time // last stat
	stamp   fileStamp
	users   map[string]string
	err     error
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

// authFileCheckEvery bounds how often Password stats the file.
const authFileCheckEvery = 100 * time.Millisecond

// NewAuthFile returns an AuthFile reading path. It reads nothing yet: call
// Load to find a missing or unreadable file at start-up.
func NewAuthFile(path string) *AuthFile { return &AuthFile{path: path} }

// Path returns the file's path.
func (a *AuthFile) Path() string { return a.path }

// Load reads the file now and returns an error if it cannot be read.
func (a *AuthFile) Load() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reload(time.Now(), true)
	return a.err
}

// Password returns the password of user, reading the file again first if
// it changed.
func (a *AuthFile) Password(user string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reload(time.Now(), false)
	p, ok := a.users[user]
	return p, ok
}

func (a *AuthFile) reload(now time.Time, force bool) {
	if !force && now.Sub(a.checked) < authFileCheckEvery && a.users != nil {
		return
	}
	a.checked = now
	fi, err := os.Stat(a.path)
	if err != nil {
		a.users, a.stamp, a.err = nil, fileStamp{}, fmt.Errorf("collectd: auth file: %w", err)
		return
	}
	st := fileStamp{mtime: fi.ModTime(), size: fi.Size(), ino: inode(fi)}
	if !force && st == a.stamp && a.err == nil {
		return
	}
	b, err := os.ReadFile(a.path)
	if err != nil {
		a.users, a.stamp, a.err = nil, fileStamp{}, fmt.Errorf("collectd: auth file: %w", err)
		return
	}
	a.users, a.stamp, a.err = parseAuthFile(b), st, nil
}

// parseAuthFile reads "user: password" lines as collectd's network plugin
// does: blanks before the user are skipped, and so are lines that then
// start with '#', have no ':' or an empty user or password; the user is
// everything before the first ':' (blanks included), the password
// everything after it but the blanks that follow the ':' (trailing blanks
// included, the line end "\n" or "\r\n" not).
func parseAuthFile(b []byte) map[string]string {
	users := map[string]string{}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimRight(line, "\r")
		line = bytes.TrimLeft(line, " \t")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		user, pass, ok := bytes.Cut(line, []byte(":"))
		pass = bytes.TrimLeft(pass, " \t")
		if !ok || len(user) == 0 || len(pass) == 0 {
			continue
		}
		users[string(user)] = string(pass)
	}
	return users
}
