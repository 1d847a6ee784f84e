package kernels

import (
	"errors"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestRequiredLevel fails when SIMDMLP_TEST_REQUIRE names a level that is
// not the active one, and when SIMDMLP_TEST_LEVELS lists other levels than
// Available returns. make test sets both from what the CPU reports
// (/proc/cpuinfo, read by the Makefile, not by the code under test), so
// that a level whose detection breaks fails here instead of vanishing
// from every test that loops over Available.
func TestRequiredLevel(t *testing.T) {
	want := os.Getenv("SIMDMLP_TEST_REQUIRE")
	levels := os.Getenv("SIMDMLP_TEST_LEVELS")
	if want == "" && levels == "" {
		t.Skip("SIMDMLP_TEST_REQUIRE and SIMDMLP_TEST_LEVELS not set")
	}
	if got := Active(); want != "" && got != want {
		t.Errorf("active kernel level is %q, SIMDMLP_TEST_REQUIRE wants %q (available: %v)", got, want, Available())
	}
	if got := strings.Join(Available(), ","); levels != "" && got != levels {
		t.Errorf("available kernel levels are %s; the CPU supports %s (SIMDMLP_TEST_LEVELS)", got, levels)
	}
}

func TestAvailable(t *testing.T) {
	av := Available()
	if len(av) == 0 || av[0] != "generic" {
		t.Fatalf("Available() = %v, want generic first", av)
	}
	if !slices.Contains(av, Active()) {
		t.Fatalf("Active() = %q is not in Available() = %v", Active(), av)
	}
	// The default is the fastest level unless the environment chose one.
	if os.Getenv(EnvVar) == "" && Active() != av[len(av)-1] {
		t.Errorf("Active() = %q, want the best level %q", Active(), av[len(av)-1])
	}
}

func TestUse(t *testing.T) {
	start := Active()
	for _, name := range Available() {
		restore, err := Use(strings.ToUpper(name))
		if err != nil {
			t.Fatalf("Use(%q): %v", name, err)
		}
		if Active() != name {
			t.Errorf("after Use(%q), Active() = %q", name, Active())
		}
		restore()
		if Active() != start {
			t.Errorf("restore after Use(%q) left %q, want %q", name, Active(), start)
		}
	}
	restore, err := Use("sse9")
	if err == nil {
		t.Fatal("Use(sse9) succeeded")
	}
	if !strings.Contains(err.Error(), `"sse9"`) || !strings.Contains(err.Error(), "generic") {
		t.Errorf("Use(sse9) error %q should name the level and list the available ones", err)
	}
	restore()
	if Active() != start {
		t.Errorf("restore after a failed Use changed the level to %q", Active())
	}
}

// TestEnvVar runs this test binary again with SIMDMLP_KERNELS set, since
// the variable is read only at start-up.
func TestEnvVar(t *testing.T) {
	if os.Getenv("SIMDMLP_ENV_CHILD") != "" {
		av := Available()
		os.Stdout.WriteString("ACTIVE=" + Active() + "\nBEST=" + av[len(av)-1] + "\n")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	cases := []struct {
		env      string
		want     string
		warnWant bool
	}{
		{"generic", "generic", false},
		{"GENERIC", "generic", false},
		{"sse9", "", true}, // "": the child's own best level
	}
	for _, c := range cases {
		cmd := exec.Command(exe, "-test.run=^TestEnvVar$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SIMDMLP_ENV_CHILD=1", EnvVar+"="+c.env)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if errors.Is(err, syscall.ENOEXEC) {
			// Under qemu-user without binfmt_misc the test binary of a
			// foreign architecture cannot start itself again.
			t.Skipf("cannot re-execute the test binary: %v", err)
		}
		if err != nil {
			t.Fatalf("%s=%s: child failed: %v\n%s%s", EnvVar, c.env, err, out, stderr.String())
		}
		want := c.want
		if want == "" {
			// The child may run on a different CPU model than this
			// process (qemu-user runs this one, the child runs natively),
			// so compare with what the child itself can run.
			_, best, _ := strings.Cut(string(out), "BEST=")
			want, _, _ = strings.Cut(best, "\n")
		}
		if !strings.Contains(string(out), "ACTIVE="+want+"\n") {
			t.Errorf("%s=%s: child reported %q, want level %q", EnvVar, c.env, out, want)
		}
		warned := strings.Contains(stderr.String(), "ignored")
		if warned != c.warnWant {
			t.Errorf("%s=%s: warning printed = %v, want %v (stderr %q)", EnvVar, c.env, warned, c.warnWant, stderr.String())
		}
	}
}

// sameFunc reports whether two function values are the same value: the
// same function, or the same closure. It compares the values' function
// objects, not their code (every closure that a helper such as elementwise
// makes shares the code of one function literal).
func sameFunc(a, b any) bool {
	if reflect.ValueOf(a).Kind() != reflect.Func || reflect.ValueOf(b).Kind() != reflect.Func {
		panic("sameFunc: not functions")
	}
	// A func value is one pointer to its function object, which an
	// interface holds as its data word.
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&a))[1] == (*[2]unsafe.Pointer)(unsafe.Pointer(&b))[1]
}
