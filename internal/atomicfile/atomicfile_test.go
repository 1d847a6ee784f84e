package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// temporaries lists the temporary files of path.
func temporaries(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), TempPrefix(path)) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteReplacesAndKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file has mode %v, want 0644", fi.Mode().Perm())
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ = os.Stat(path)
	if string(b) != "two" || fi.Mode().Perm() != 0o600 {
		t.Errorf("after rewrite: %q mode %v, want \"two\" 0600", b, fi.Mode().Perm())
	}
	if tmp := temporaries(t, path); len(tmp) > 0 {
		t.Errorf("temporaries left: %v", tmp)
	}
}

func TestFailedWriteKeepsOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the callback's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("old file became %q", b)
	}
	if tmp := temporaries(t, path); len(tmp) > 0 {
		t.Errorf("temporaries left: %v", tmp)
	}
}

func TestBadTargets(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		dir:                                 "is a directory",
		filepath.Join(dir, "no", "such.go"): "no such file or directory",
		"":                                  "no file name",
	}
	if runtime.GOOS == "linux" {
		cases["/dev/null"] = "not a regular file (a character device)"
		// Not writable even by root.
		cases["/proc/self/new-file"] = "cannot write /proc/self/new-file"
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		cases[filepath.Join(ro, "x")] = "permission denied"
	}
	for path, want := range cases {
		for name, f := range map[string]func(string) error{
			"CheckWritable": CheckWritable,
			"WriteFile":     func(p string) error { return WriteFile(p, []byte("x")) },
		} {
			err := f(path)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%q) = %v, want an error containing %q", name, path, err, want)
			}
		}
	}
	if runtime.GOOS == "linux" {
		if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("/dev/null changed: %v %v", fi, err)
		}
	}
}

func TestCheckWritableLeavesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.png")
	if err := CheckWritable(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Errorf("CheckWritable left %v", entries)
	}
}

func TestStaleTemporariesRemoved(t *testing.T) {
	if !flockable() {
		t.Skip("no flock on " + runtime.GOOS)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	// A leftover of a dead writer, one of another path, and another file.
	dead := filepath.Join(dir, TempPrefix(path)+"123")
	other := filepath.Join(dir, TempPrefix(filepath.Join(dir, "other"))+"456")
	keep := filepath.Join(dir, "m.safetensors.bak")
	for _, p := range []string{dead, other, keep} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A live writer of the same path, still writing.
	live, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead writer's temporary is still there (%v)", err)
	}
	for _, p := range []string{other, keep, live.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// The live writer finishes normally.
	live.Write([]byte("first"))
	if err := live.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Errorf("file holds %q, want the last commit's \"first\"", b)
	}
	if tmp := temporaries(t, path); len(tmp) > 0 {
		t.Errorf("temporaries left: %v", tmp)
	}
}

func TestLockOwnSeesRemovedName(t *testing.T) {
	if !flockable() {
		t.Skip("no flock on " + runtime.GOOS)
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.Remove(f.Name())
	if ok, err := lockOwn(f); ok || err != nil {
		t.Errorf("lockOwn on a file whose name was removed = %v, %v; want false", ok, err)
	}
}

func flockable() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return true
	}
	return false
}

// TestKilledWriters kills writers with SIGKILL in the middle of a write
// and checks that the old file survives each time and that the next write
// removes every temporary the dead ones left.
func TestKilledWriters(t *testing.T) {
	if !flockable() {
		t.Skip("no flock on " + runtime.GOOS)
	}
	if os.Getenv("ATOMICFILE_HELPER") != "" {
		t.Skip("helper mode")
	}
	path := filepath.Join(t.TempDir(), "model.bin")
	if err := WriteFile(path, []byte("good")); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const kills = 5
	for range kills {
		cmd := exec.Command(exe, "-test.run", "^TestHelperWriter$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOEXEC) {
				// Under qemu-user without binfmt_misc the test binary of
				// a foreign architecture cannot start itself again.
				t.Skipf("cannot re-execute the test binary: %v", err)
			}
			t.Fatal(err)
		}
		// Wait until the helper has written part of the file.
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "writing") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("helper said %q, %v", line, err)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if b, _ := os.ReadFile(path); string(b) != "good" {
			t.Fatalf("after a kill the file holds %q", b)
		}
		// Each writer collected its dead predecessor's file: one is left.
		if tmp := temporaries(t, path); len(tmp) != 1 {
			t.Fatalf("temporaries after a killed write: %v, want the last writer's only", tmp)
		}
	}
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if tmp := temporaries(t, path); len(tmp) > 0 {
		t.Errorf("temporaries of killed writers were not removed: %v", tmp)
	}
}

// TestHelperWriter is the writer TestKilledWriters kills.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("ATOMICFILE_HELPER")
	if path == "" {
		t.Skip("run by TestKilledWriters")
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half"))
	os.Stdout.WriteString("writing " + f.Name() + "\n")
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}
