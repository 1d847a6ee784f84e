// Package atomicfile writes files so that readers, crashes and kills see
// either the old file or the whole new one, never half of either, and so
// that the temporary file of a writer that died is removed by the next
// write of the same path.
//
// A new file is written into a temporary file beside its final path, named
// "." + base + ".tmp-" + random, synced, and renamed over the path. While
// it is being written the writer holds an exclusive flock on it (on the
// systems that have flock). Before creating its own, every write tries to
// take that lock on each temporary of the same path: a lock that can be
// taken belongs to no living writer (the kernel drops a process's locks
// when it dies, however it dies), so that file is a leftover and is
// removed. On systems without flock, leftovers are not collected.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix separates a path's base name from the random part of its
// temporaries' names.
const tempInfix = ".tmp-"

// TempPrefix returns the name prefix of the temporary files of path,
// within path's directory: "." + base + ".tmp-".
func TempPrefix(path string) string { return "." + filepath.Base(path) + tempInfix }

// File is a temporary file that becomes path on Commit. Its methods are not
// safe for concurrent use.
type File struct {
	f    *os.File
	path string
	dir  string
	mode fs.FileMode
	done bool
}

// Create removes the leftovers of dead writers of path, then creates a
// locked temporary file in path's directory. The caller writes into it
// (File is an io.Writer) and then calls Commit, or Abort to give up; Abort
// after Commit does nothing, so `defer f.Abort()` is the usual pattern.
//
// path must be a regular file or not exist yet: a directory, a device, a
// named pipe or a socket at path is an error, as is a directory that does
// not exist or cannot be written.
func Create(path string) (*File, error) {
	dir, mode, err := target(path)
	if err != nil {
		return nil, err
	}
	removeStale(dir, TempPrefix(path))
	// A cleaner may take the lock of a file created a moment ago, before
	// its writer locked it, and remove it; the writer then finds its name
	// gone and starts over with a new one.
	for range 8 {
		f, err := os.CreateTemp(dir, TempPrefix(path)+"*")
		if err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", path, err)
		}
		ok, err := lockOwn(f)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("cannot write %s: locking %s: %w", path, f.Name(), err)
		}
		if ok {
			return &File{f: f, path: path, dir: dir, mode: mode}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("cannot write %s: its temporary files keep disappearing", path)
}

// target checks path as a destination and returns its directory and the
// permissions the new file gets (the old file's, else 0644).
func target(path string) (dir string, mode fs.FileMode, err error) {
	if path == "" {
		return "", 0, errors.New("no file name given")
	}
	dir = filepath.Dir(path)
	mode = 0o644
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return "", 0, fmt.Errorf("cannot write %s: it is a directory", path)
	case err == nil && !fi.Mode().IsRegular():
		return "", 0, fmt.Errorf("cannot write %s: it exists and is not a regular file (%s)", path, kind(fi.Mode()))
	case err == nil:
		mode = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return "", 0, fmt.Errorf("cannot write %s: %w", path, err)
	}
	di, err := os.Stat(dir)
	if err != nil {
		return "", 0, fmt.Errorf("cannot write %s: %w", path, err)
	}
	if !di.IsDir() {
		return "", 0, fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	return dir, mode, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// Name returns the temporary file's path, for reading back what was
// written before Commit.
func (t *File) Name() string { return t.f.Name() }

// Write writes to the temporary file.
func (t *File) Write(b []byte) (int, error) { return t.f.Write(b) }

// Commit syncs the temporary file, gives it the permissions of the file it
// replaces (0644 for a new one), renames it over the path and syncs the
// directory. On error the temporary file is removed and any old file at
// the path is left as it was.
func (t *File) Commit() error {
	if t.done {
		return fmt.Errorf("writing %s: already committed or aborted", t.path)
	}
	t.done = true
	tmp := t.f.Name()
	err := t.f.Chmod(t.mode)
	if err == nil {
		err = t.f.Sync()
	}
	if err == nil {
		// Renamed while still open and locked, so that no cleaner can
		// take the file for a leftover between the two.
		err = os.Rename(tmp, t.path)
	}
	cerr := t.f.Close()
	if err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", t.path, err)
	}
	// The rename is durable only once the directory is synced. Some
	// systems cannot open or sync a directory; the file is in place.
	if d, err := os.Open(t.dir); err == nil {
		serr := d.Sync()
		d.Close()
		if serr != nil && !errors.Is(serr, os.ErrInvalid) && !errors.Is(serr, errors.ErrUnsupported) {
			return fmt.Errorf("writing %s: syncing directory %s: %w", t.path, t.dir, serr)
		}
	}
	return nil
}

// Abort removes the temporary file; the path keeps what it held. It does
// nothing after Commit or a previous Abort.
func (t *File) Abort() {
	if t.done {
		return
	}
	t.done = true
	t.f.Close()
	os.Remove(t.f.Name())
}

// Write writes path with the bytes write produces, atomically (see the
// package documentation). On error nothing at path changes and no
// temporary file is left.
func Write(path string, write func(w io.Writer) error) error {
	t, err := Create(path)
	if err != nil {
		return err
	}
	defer t.Abort()
	bw := bufio.NewWriterSize(t, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return t.Commit()
}

// WriteFile writes b to path atomically.
func WriteFile(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// CheckWritable reports whether path could be written now, without
// changing it: path is a regular file or absent, its directory exists, and
// a temporary file can be created in it (one is created and removed). Run
// it before long work whose result goes to path, so that the work is not
// thrown away.
func CheckWritable(path string) error {
	dir, _, err := target(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, TempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("cannot write %s: removing the probe file: %w", path, err)
	}
	return nil
}

// removeStale removes the temporary files in dir whose names start with
// prefix and whose writers are gone. Errors are ignored: a leftover that
// cannot be removed now is tried again by the next write.
func removeStale(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		removeIfDead(filepath.Join(dir, e.Name()))
	}
}
