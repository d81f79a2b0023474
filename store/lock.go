package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrLocked is returned by Lock when another process holds the store's lock.
var ErrLocked = errors.New("another schoolwatch is using the store")

// FileLock is an exclusive lock on a store, held from Lock until Release
// or until the process ends (the kernel drops it then, even on SIGKILL).
type FileLock struct {
	f *os.File
}

// LockPath is the lock file of the store at path.
func LockPath(path string) string { return path + ".lock" }

// Lock takes the exclusive lock of the store at path: the file
// path+".lock" (mode 0600), locked with flock. It does not wait: if
// another process holds the lock, it fails at once with an error that
// wraps ErrLocked and names the lock file and, when known, the holder's
// process id. Only processes that send mail or record items take it
// (`run`, `once --send`); readers such as `status` do not, and SQLite
// keeps them consistent.
func Lock(path string) (*FileLock, error) {
	lp := LockPath(path)
	if err := os.MkdirAll(filepath.Dir(lp), 0o750); err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	if err := privateFile(lp); err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	f, err := os.OpenFile(lp, os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	if err := lockFile(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(lp); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf(" (process %d)", pid)
			}
		}
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w%s: the lock file %s is held; stop the other process, or give this one its own store.path", ErrLocked, holder, lp)
		}
		return nil, fmt.Errorf("lock store %s: %w", lp, err)
	}
	// The holder's pid, for the message above and for operators; the lock
	// itself is the flock, not the file's content.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &FileLock{f: f}, nil
}

// Release drops the lock. The lock file stays: deleting it would let a
// process that opened it before the deletion and one that creates it
// afresh both hold "the" lock.
func (l *FileLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := errors.Join(unlockFile(l.f), l.f.Close())
	l.f = nil
	return err
}
