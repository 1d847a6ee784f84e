package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// peerConfig holds lines describing the peers this build links; the
// files behind build tags add to it in init.
var peerConfig []string

// TestMain prints, before any result, which kernel levels exist and which
// peers are linked and how they are set up, so that a saved run documents
// itself. The lines start with "# ": as "key: value" configuration lines
// they would make benchstat split a file holding several runs (OpenBLAS
// with different cores, the Python peers) into separate tables, while the
// impl=<name> of each result already says what ran.
func TestMain(m *testing.M) {
	fmt.Printf("# simdmlp kernels: %s (active %s)\n", strings.Join(kernels.Available(), " "), kernels.Active())
	for _, line := range peerConfig {
		fmt.Println("# " + line)
	}
	os.Exit(m.Run())
}
