//go:build openblas

package bench

import (
	"fmt"
	"os"
	"strings"

	"github.com/simdmlp/simdmlp/bench/internal/openblas"
)

// With the openblas tag, OpenBLAS's cblas_sgemm joins the contenders as
// impl=openblas-<core>, the core being the one OpenBLAS chose at load
// time (OPENBLAS_CORETYPE overrides its choice), on one thread.
func init() {
	if !openblas.Enabled {
		panic("bench: built with the openblas tag but without cgo (CGO_ENABLED=0?)")
	}
	name := "openblas-" + strings.ToLower(openblas.CoreName())
	peerContenders = append(peerContenders, contender{name: name, use: func() (sgemmFunc, func(), error) {
		if n := openblas.SetThreads(1); n != 1 {
			return nil, nil, fmt.Errorf("openblas_set_num_threads(1) left %d threads", n)
		}
		return openblas.Sgemm, func() {}, nil
	}})
	threads := openblas.SetThreads(1)
	peerConfig = append(peerConfig, fmt.Sprintf("openblas: core %s, %d thread(s), OPENBLAS_CORETYPE=%q OPENBLAS_L2_SIZE=%q, %s",
		openblas.CoreName(), threads, os.Getenv("OPENBLAS_CORETYPE"), os.Getenv("OPENBLAS_L2_SIZE"), openblas.Config()))
}
