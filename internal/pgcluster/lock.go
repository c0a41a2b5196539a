package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ErrLocked is wrapped by AcquireLock's error when another process holds the lock.
var ErrLocked = errors.New("lock held by another process")

// AcquireLock takes an exclusive, non-blocking flock on path and records our pid in it,
// so a second Rosetta pointed at the same data directory stops with a clear message
// instead of racing the first one for the cluster. The kernel drops the lock when its
// holder dies, even by kill -9, so a lock file left by a dead process never blocks: the
// next caller takes it and overwrites the dead pid. release is idempotent.
func AcquireLock(path string) (release func(), err error) {
	release, holder, err := flock(path)
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("another Rosetta is already running with this data directory (%s; lock file %s): %w",
			holder, path, ErrLocked)
	}
	return release, err
}

// flock is AcquireLock without the message: when the lock is held, holder describes who
// holds it ("pid 123") for the caller's own sentence.
func flock(path string) (release func(), holder string, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, "", err
	}
	// Go opens files close-on-exec, so the servers we start never inherit the lock: a
	// postmaster orphaned by our death must not keep it held.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "unknown pid"
			if b, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
					holder = "pid " + strconv.Itoa(pid)
				}
			}
			return nil, holder, ErrLocked
		}
		return nil, "", fmt.Errorf("lock %s: %w", path, err)
	}
	// Truncate only once we hold the lock: doing it earlier would erase the holder's pid
	// that a losing contender wants to print.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The file itself stays: removing it while another process is opening it
			// would let two processes lock two different inodes of the "same" path.
			_ = f.Truncate(0)
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			_ = f.Close()
		})
	}, "", nil
}
