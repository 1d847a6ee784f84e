// Package interoptest holds the rule every interoperability test follows
// when the outside tool it checks against is missing (ONNX Runtime through
// node, python3 with numpy or torch): it skips, saying in capitals what is
// missing and how to get it, except when $SIMDMLP_TEST_REQUIRE_INTEROP is
// 1, as CI sets it, where it fails, so that CI cannot pass by not running
// them. go test shows skip messages only with -v.
package interoptest

import (
	"os"
	"testing"

	"github.com/simdmlp/simdmlp/internal/ort"
)

// EnvRequire set to 1 turns the skip of an interoperability test into a
// failure.
const EnvRequire = "SIMDMLP_TEST_REQUIRE_INTEROP"

// Required reports whether interoperability tests must run rather than
// skip.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Skip skips t with a loud message, or fails it when interoperability
// tests are required.
func Skip(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("INTEROP TEST NOT RUN, and %s=1 requires it: %s", EnvRequire, why)
	}
	t.Skipf("SKIPPED INTEROP TEST (%s=1 makes this a failure): %s", EnvRequire, why)
}

// ORT returns ONNX Runtime for Node.js, found or installed by ort.Find,
// or skips (or fails) t. Under -short it skips without looking, whatever
// $SIMDMLP_TEST_REQUIRE_INTEROP says: -short asks for the quick tests
// only, and it is how make test runs the suite for arm64 under qemu-user,
// where these tests would only repeat the native run's check at emulated
// speed (the Makefile also drops the variable there, for the interop tests
// that do not look at -short).
func ORT(t testing.TB) *ort.Runtime {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED INTEROP TEST under -short: the ONNX Runtime tests run in the full, native run")
	}
	rt, err := ort.Find()
	if err != nil {
		Skip(t, err.Error()+"\n(set "+ort.EnvDir+" to a directory holding node_modules/onnxruntime-node, "+
			"or install node and npm so that the test installs onnxruntime-node@"+ort.Version+" into the user cache)")
	}
	return rt
}
