//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// lockOwn takes the writer's lock on a file it just created, and reports
// whether the file is still at its name (a cleaner may have removed it
// before the lock was taken).
func lockOwn(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EINTR) {
			return false, err
		}
	}
	return stillNamed(f), nil
}

// removeIfDead removes the temporary file at name when no process holds
// its lock.
func removeIfDead(name string) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // a live writer holds it (or locks are unsupported here)
	}
	// Holding the lock, make sure the name still means the file locked:
	// a writer may have renamed it and another created the same name.
	if stillNamed(f) {
		os.Remove(name)
	}
}

func stillNamed(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	ni, err := os.Lstat(f.Name())
	return err == nil && os.SameFile(fi, ni)
}
