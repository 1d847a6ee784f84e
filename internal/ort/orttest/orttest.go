// Package orttest is the tests' way to ONNX Runtime: Runtime returns the
// located runtime or skips the test saying, in capitals, what is missing
// and how to get it, and fails instead when $SIMDMLP_TEST_REQUIRE_INTEROP
// is 1 (as CI sets it), so that an interoperability test can never pass
// in CI by not running.
package orttest

import (
	"os"
	"testing"

	"github.com/simdmlp/simdmlp/internal/ort"
)

// Required reports whether interoperability tests must run rather than
// skip ($SIMDMLP_TEST_REQUIRE_INTEROP=1).
func Required() bool { return os.Getenv(ort.EnvRequire) == "1" }

// Skip skips t with a loud message, or fails it when interoperability
// tests are required. Tests that need other outside tools (python3 with
// torch, say) share it so that the rule is the same for all.
func Skip(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("INTEROP TEST NOT RUN, and %s=1 requires it: %s", ort.EnvRequire, why)
	}
	t.Skipf("SKIPPED INTEROP TEST (set %s=1 to make this a failure): %s", ort.EnvRequire, why)
}

// Runtime returns ONNX Runtime for Node.js, found or installed by
// ort.Find, or skips (or fails) t. Under -short it skips without looking,
// whatever $SIMDMLP_TEST_REQUIRE_INTEROP says: -short asks for the quick
// tests only, and it is how make test runs the suite for arm64 under
// qemu-user, where these tests would only repeat the native run's check
// at emulated speed (the Makefile also drops the variable there, for the
// interop tests that do not come through here).
func Runtime(t testing.TB) *ort.Runtime {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED INTEROP TEST under -short: the ONNX Runtime tests run in the full, native run")
	}
	rt, err := ort.Find()
	if err != nil {
		Skip(t, err.Error()+"\n(set "+ort.EnvDir+" to a directory holding node_modules/onnxruntime-node, "+
			"or install node and npm so that the test can install onnxruntime-node@"+ort.Version+" into the user cache)")
	}
	return rt
}
