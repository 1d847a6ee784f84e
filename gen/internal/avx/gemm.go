package avx

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GemmBlock is the loop skeleton shared by the packed GEMM micro-kernels:
// it walks a whole packed block of C, column panels outside and row panels
// inside, so that one kc×NR panel of B stays in L1 while the MR×kc panels of
// A stream past it (the BLIS macro-kernel order). The caller's TEXT has the
// signature
//
//	func(kc, m, n int, a, b, c *float32, ldc int, alpha, beta float32)
//
// and GemmBlock emits the whole body up to, not including, VZEROUPPER and
// RET. The ISA-specific parts come from t.
type GemmBlock struct {
	MR, NR int
	// Unroll is how many k steps one iteration of the main k loop does.
	Unroll int
	// PrefetchA, when positive, is how many bytes ahead of the k loop's
	// position in the A panel each iteration prefetches (one PREFETCHT0
	// per cache line the iteration consumes). The A panels stream from
	// L2, so a few hundred bytes ahead pays (bench/README.md,
	// "Prefetching in the GEMM micro-kernels"). Past the last
	// panel the prefetches touch nothing the kernel owns, which is
	// harmless: a prefetch never faults.
	PrefetchA int
	// Zero clears the accumulators.
	Zero func()
	// Step does one k step: the MR elements of A at a and the NR elements
	// of B at b.
	Step func(a, b Mem)
	// Panel runs once per column panel, before its tiles, with nrem the
	// columns left (≥ 1; the panel is NR wide or the last, narrower one).
	// It may clobber SI and CX.
	Panel func(nrem GPPhysical)
	// Store writes the finished tile: c is its first element, ldc the row
	// stride in bytes, mrem and nrem the rows and columns left from the
	// tile's corner (≥ 1, possibly more than MR or NR), row a register it
	// may advance down the rows. alpha and beta are the arguments' memory.
	Store func(s GemmStore)
}

// GemmStore is what GemmBlock hands the Store callback.
type GemmStore struct {
	C, Ldc, Mrem, Nrem, Row, Scratch GPPhysical
	Alpha, Beta                      Mem
	// Done is the label Store's row loop jumps to when the rows left run
	// out; GemmBlock places it after Store's code.
	Done string
}

// Emit writes the skeleton. Registers: R8 columns left, R9 B panel,
// R10 C column, R11 rows left, R12 A panel, R13 C tile, AX/BX the A and B
// pointers of the k loop, CX the k count, DX ldc in bytes, DI a row
// pointer, SI scratch. R14 and R15 are left alone (g and the dynamic
// linker's temporary).
func (t GemmBlock) Emit(name string) {
	nrem, bpan, ccol, mrem, apan, ctile := R8, R9, R10, R11, R12, R13
	ap, bp, ldc, tmp := RAX, RBX, RDX, RSI
	lbl := func(s string) string { return name + "_" + s }

	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	Load(Param("n"), nrem)
	Load(Param("b"), bpan)
	Load(Param("c"), ccol)

	Label(lbl("cols"))
	t.Panel(nrem)
	Load(Param("a"), apan)
	Load(Param("m"), mrem)
	MOVQ(ccol, ctile)

	Label(lbl("rows"))
	t.tile(name, ctile)
	// The k loop has left ap at the next A panel…
	MOVQ(ap, apan)
	IMUL3Q(U32(t.MR), ldc, tmp)
	ADDQ(tmp, ctile)
	SUBQ(U32(t.MR), mrem)
	JG(LabelRef(lbl("rows")))

	// … and bp at the next B panel.
	MOVQ(bp, bpan)
	ADDQ(U32(4*t.NR), ccol)
	SUBQ(U32(t.NR), nrem)
	JG(LabelRef(lbl("cols")))
}

// tile emits one tile: the k loop over the panels at apan (R12) and bpan
// (R9) into the accumulators, then Store to the C tile at c. It leaves AX
// and BX just past the two panels.
func (t GemmBlock) tile(name string, c GPPhysical) {
	nrem, bpan, mrem, apan := R8, R9, R11, R12
	ap, bp, k, ldc, row, tmp := RAX, RBX, RCX, RDX, RDI, RSI
	lbl := func(s string) string { return name + "_" + s }

	t.Zero()
	MOVQ(apan, ap)
	MOVQ(bpan, bp)
	Load(Param("kc"), k)
	// Pull the C tile towards L1 while the k loop runs: its rows are ldc
	// apart, so the hardware prefetchers will not guess them. They go
	// out before the loop, not near its end, which was slower
	// (bench/README.md, "Prefetching in the GEMM micro-kernels").
	MOVQ(c, row)
	for i := range t.MR {
		if i > 0 {
			ADDQ(ldc, row)
		}
		PREFETCHT0(Mem{Base: row})
		PREFETCHT0(Mem{Base: row, Disp: 4*t.NR - 1})
	}
	t.kloop(lbl("k"))

	done := lbl("stored")
	t.Store(GemmStore{C: c, Ldc: ldc, Mrem: mrem, Nrem: nrem, Row: row, Scratch: tmp,
		Alpha: paramMem("alpha"), Beta: paramMem("beta"), Done: done})
	Label(done)
}

// kloop emits CX ≥ 0 k steps, unrolled, advancing AX and BX; it leaves
// CX at zero.
func (t GemmBlock) kloop(prefix string) {
	ap, bp, k := RAX, RBX, RCX
	u := t.Unroll
	CMPQ(k, U32(u))
	JL(LabelRef(prefix + "tail"))
	Label(prefix + "loop")
	for off := 0; t.PrefetchA > 0 && off < 4*t.MR*u; off += 64 {
		PREFETCHT0(Mem{Base: ap, Disp: t.PrefetchA + off})
	}
	for s := range u {
		t.Step(Mem{Base: ap, Disp: 4 * t.MR * s}, Mem{Base: bp, Disp: 4 * t.NR * s})
	}
	ADDQ(U32(4*t.MR*u), ap)
	ADDQ(U32(4*t.NR*u), bp)
	SUBQ(U32(u), k)
	CMPQ(k, U32(u))
	JGE(LabelRef(prefix + "loop"))
	Label(prefix + "tail")
	TESTQ(k, k)
	JE(LabelRef(prefix + "done"))
	Label(prefix + "one")
	t.Step(Mem{Base: ap}, Mem{Base: bp})
	ADDQ(U32(4*t.MR), ap)
	ADDQ(U32(4*t.NR), bp)
	DECQ(k)
	JNE(LabelRef(prefix + "one"))
	Label(prefix + "done")
}

// paramMem returns the stack address of a scalar argument, for
// instructions (such as broadcasts) that take it straight from memory.
func paramMem(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(fmt.Sprintf("avx: parameter %s: %v", name, err))
	}
	return b.Addr
}

// GemmSkipRow emits, before row i ≥ 1 of a tile's store, the jump to done
// that ends the store when only i rows are left.
func GemmSkipRow(s GemmStore, i int) {
	if i == 0 {
		return
	}
	CMPQ(s.Mrem, U32(i))
	JLE(LabelRef(s.Done))
}

// GemmBetaZero emits the test of beta against ±0 and the jump to label
// when it is zero: the store must then not read C at all.
func GemmBetaZero(s GemmStore, label string) {
	MOVL(s.Beta, s.Scratch.As32())
	TESTL(U32(0x7fffffff), s.Scratch.As32())
	JE(LabelRef(label))
}
