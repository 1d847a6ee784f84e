package kernels

import (
	"fmt"
	"os"
	"strings"
)

// impl is one complete set of kernels for one CPU level. Every level
// supplies every kernel: a level that has no faster version of a kernel
// keeps the one of the level below it (see cloneLevel), so the exported
// entry points never need to ask which level is active.
//
// The levels are built by archLevels (dispatch_amd64.go,
// dispatch_arm64.go) from the generic level (generic.go); each installs
// its assembly through one table per kernel family (elem*, gemm*, optim*).
// A level's code calls its own kernels through the *impl it is given and
// never reads active, which only the exported entry points consult.
type impl struct {
	name string

	sgemm gemmKernel
	// smallGemm, when not nil, is tried before the blocked driver: it
	// multiplies small operands in place, without packing, and reports
	// false for shapes it leaves to the driver. Its arguments are checked,
	// m, n, k ≥ 1 and alpha != 0.
	smallGemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool
	// smallDense, when not nil, is the level's fused dense layer (see
	// DenseForward), called with l itself and checked arguments (m, n ≥ 1,
	// len(bias) = n, every slice long enough). It reports false for shapes
	// it leaves to the two passes of l.denseForward.
	smallDense func(l *impl, act Activation, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias []float32, y []float32, ldy int) bool

	// acts holds each activation's forward, fused bias and gradient
	// kernels, indexed by Activation (see activations).
	acts [numActivations]actKernels

	colSum              func(dst, x []float32, rows, cols int)
	softmaxCrossEntropy func(probs, grad, logits []float32, labels []int32, rows, cols int) float64
	argmax              func(dst []int32, x []float32, rows, cols int)
	countCorrect        func(x []float32, labels []int32, rows, cols int) int
	sgdStep             func(theta, m, g []float32, p SGDParams)
	adagradStep         func(theta, acc, g []float32, p AdagradParams)
	rmspropStep         func(theta, v, mom, mg, g []float32, p RMSpropParams)
	adamStep            func(theta, m, v, vhat, g []float32, p AdamParams)
	sumSquares          func(x []float32) float64
	scale               func(x []float32, s float32)
	clamp               func(x []float32, lo, hi float32)
	allFinite           func(x []float32) bool
	dropout             func(dst, x []float32, p DropoutParams)
	// prefetchRows issues the cache hints of PrefetchRows, its
	// arguments checked; the generic level's does nothing.
	prefetchRows func(src []float32, cols int, idx []int)

	// quantizeRowsU8 and int8Dense are the two steps of DenseInt8, their
	// arguments checked (see refQuantizeRowsU8 and refInt8Dense);
	// int8Dense gets at most 32 rows of codes whose leading dimension is
	// roundUp(w.in, 16), the codes past w.in zero, and pf, the rows of x
	// DenseInt8 quantizes next, which a level may prefetch as it goes
	// (never read; possibly empty), and nz, a workspace of ceil(w.in/4)+16
	// values (or empty) in which a level may list a row's groups of codes
	// that are not all zero, to skip the rest (the amd64 products do).
	quantizeRowsU8 func(q []uint8, ldq int, scale []float32, zero []int32, x []float32, ldx, m, k int)
	int8Dense      func(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, pf []float32, nz []int32)

	// fmaPeak, when not nil, is the level's peak loop: iters rounds of
	// fmaFlops floating-point operations in independent fused
	// multiply-adds on the level's widest vectors, and nothing else
	// (see FMAPeakLoop). The generic level has none.
	fmaPeak  func(iters int)
	fmaFlops int
}

// levels lists the implementations this CPU can run, slowest first. The
// generic level is always first; archLevels (one per architecture file)
// adds the faster ones whose CPU features are present. It is a variable
// initialiser rather than init code so that it is complete before any
// init function reads it, whatever the file order.
var levels = append([]*impl{generic}, archLevels()...)

// active is the implementation every exported kernel calls. It is read
// without synchronisation on every call, which is why Use is documented as
// unsafe to call while kernels run.
var active = generic

// EnvVar names the environment variable read once at start-up to choose a
// kernel level, for example SIMDMLP_KERNELS=generic. An unknown or
// unavailable name leaves the best level in place and prints a warning to
// standard error, so a typo never silently changes results.
const EnvVar = "SIMDMLP_KERNELS"

func init() {
	active = levels[len(levels)-1]
	if want := strings.TrimSpace(os.Getenv(EnvVar)); want != "" {
		if _, err := Use(want); err != nil {
			fmt.Fprintf(os.Stderr, "simdmlp: %s=%q ignored: %v; using %s\n", EnvVar, want, err, active.name)
		}
	}
}

// Available returns the names of the kernel levels this CPU can run,
// slowest first. "generic" is always present; "avx2", "avx512" and "neon"
// appear when they are built in and the CPU supports them.
func Available() []string {
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = l.name
	}
	return names
}

// Active returns the name of the kernel level in use.
func Active() string { return active.name }

// Use makes the named level active and returns a function that restores
// the previous one. It is meant for start-up, tests and benchmarks: it must
// not be called while other goroutines are running kernels.
func Use(name string) (restore func(), err error) {
	for _, l := range levels {
		if l.name == strings.ToLower(name) {
			prev := active
			active = l
			return func() { active = prev }, nil
		}
	}
	return func() {}, fmt.Errorf("kernels: level %q is not available on this CPU (available: %s)",
		name, strings.Join(Available(), ", "))
}
