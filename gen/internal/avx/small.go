package avx

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// SmallGemm generates the unpacked small-matrix GEMM kernels of one ISA.
//
// The BLIS driver packs A and B before it multiplies; at the trainer's
// shapes (batch 32 against a 784×100 or 100×10 weight matrix) that copy
// costs about as much as the arithmetic. These kernels read the operands
// where they lie instead: each step p broadcasts the elements of op(A)'s
// column p for an MR-row panel (stride lda for A, contiguous for Aᵀ) and
// loads row p of B, whose row-major rows are already the contiguous panels
// a packed B would hold.
//
// One function is emitted per transposition of A and per panel height
// mr = 1..MR, named SgemmSmall{NN,TN}<mr><ISA>. Each covers m rows (a
// multiple of mr) and all n columns, NV[mr-1] vectors of C at a time; the
// last chunk of a row takes 1..NV[mr-1] vectors with its final vector
// masked, so any n is exact without reading or writing past a row.
//
// Every element of C is one chain of k dependent FMAs, so a chunk of
// mr·nv sums takes at least k FMA latencies whatever its size. Tall panels
// hide that latency behind many rows; short ones (a single sample to
// predict, the last rows of a batch) would leave the FMA units idle, so
// they take wider chunks: one or two passes over B instead of n/(NV·w).
// Single-row panels read B straight from memory in the FMA, which needs no
// registers for B and so reaches the widest chunks. The order of each
// sum is the same for every width, so every row of C comes out with the
// same bits whatever the panel height that computed it.
type SmallGemm struct {
	ISA  string // suffix of the function names: "AVX2" or "AVX512"
	Wide bool   // AVX-512: ZMM and opmask tails; else YMM and VMASKMOVPS
	MR   int    // rows per panel
	NV   []int  // vectors per full column chunk, by panel height (index mr-1)
}

// Flags of the kernels' epilogue; the Go glue must use the same values.
const (
	smallAlpha = 1 // multiply by alpha (else alpha is 1)
	smallBeta  = 2 // add beta·C (else C is not read)
	smallBias  = 4 // add bias[j] to column j
	smallRelu  = 8 // max(x, 0) last
)

// Generate emits every function of the set and, for AVX2, the mask table.
func (s SmallGemm) Generate() {
	var table Mem
	if s.Wide {
		// 16-bit opmasks with the low r bits set, r = 0..16.
		table = GLOBL("smallmask512", RODATA|NOPTR)
		for r := 0; r <= 16; r++ {
			DATA(2*r, U16(uint16((1<<r)-1)))
		}
	} else {
		// Eight all-ones lanes then eight zero lanes: the eight lanes from
		// index 8-r have their first r lanes set.
		table = GLOBL("smallmask256", RODATA|NOPTR)
		for i := range 16 {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			DATA(4*i, U32(v))
		}
	}
	if len(s.NV) != s.MR {
		panic(fmt.Sprintf("%s: %d chunk widths for %d panel heights", s.ISA, len(s.NV), s.MR))
	}
	for _, trans := range []bool{false, true} {
		for mr := 1; mr <= s.MR; mr++ {
			g := &smallFunc{SmallGemm: s, trans: trans, mr: mr, nv: s.NV[mr-1], table: table}
			g.emit()
		}
	}
}

type smallFunc struct {
	SmallGemm
	trans bool // A is stored transposed (k×m)
	mr    int
	nv    int // vectors per full column chunk
	table Mem
	label int
}

// memB reports whether the FMAs read B from memory rather than from
// registers loaded once per k step: worth it only when no other row
// shares the loads.
func (g *smallFunc) memB() bool { return g.mr == 1 }

func (g *smallFunc) w() int { // lanes per vector
	if g.Wide {
		return 16
	}
	return 8
}

func (g *smallFunc) vec() VecVirtual {
	if g.Wide {
		return ZMM()
	}
	return YMM()
}

func (g *smallFunc) newLabel(what string) string {
	g.label++
	return fmt.Sprintf("%s%d", what, g.label)
}

func (g *smallFunc) emit() {
	kind := "NN"
	aShape := "A (m×k, element (i,p) at a[i*lda+p])"
	if g.trans {
		kind = "TN"
		aShape = "Aᵀ (A stored k×m, element (i,p) of op(A) at a[p*lda+i])"
	}
	name := fmt.Sprintf("SgemmSmall%s%d%s", kind, g.mr, g.ISA)
	TEXT(name, NOSPLIT, "func(m, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s computes C = alpha·op(A)·B + beta·C for op(A) = %s,", name, aShape),
		"B k×n row-major with leading dimension ldb and C m×n with leading dimension ldc,",
		"reading A and B in place (no packing). Go reference: Sgemm on the generic level",
		"(genericGemm, kernels/ref_gemm.go). flags: 1 scale by alpha, 2 add beta·C (else C is",
		"only written), 4 add bias[j] to column j, 8 apply max(x, 0) last (kernels.DenseForward).",
		fmt.Sprintf("Assembly because the broadcast-FMA loop over a %d-row panel and %d vectors of B,", g.mr, g.nv),
		"with masked column tails, needs FMA and vector masks the Go compiler does not emit.",
		fmt.Sprintf("Preconditions: m ≥ 1 and a multiple of %d, n ≥ 1, k ≥ 1, all of A, B, C", g.mr),
		"(and bias when flag 4 is set) in bounds; nothing outside C's m×n region is touched.",
	)

	aRow := Load(Param("a"), GP64())
	cRow := Load(Param("c"), GP64())
	mLeft := Load(Param("m"), GP64())

	panel := g.newLabel("panel")
	next := g.newLabel("next")
	Label(panel)
	j := GP64()
	XORQ(j, j)
	col := g.newLabel("col")
	tail := g.newLabel("tail")
	Label(col)
	rem := Load(Param("n"), GP64())
	SUBQ(j, rem)
	full := g.nv * g.w()
	CMPQ(rem, U32(full))
	JL(LabelRef(tail))
	g.block(aRow, cRow, j, nil, g.nv)
	ADDQ(U32(full), j)
	JMP(LabelRef(col))

	Label(tail)
	TESTQ(rem, rem)
	JLE(LabelRef(next))
	tails := make([]string, g.nv+1)
	for nv := 1; nv <= g.nv; nv++ {
		tails[nv] = g.newLabel(fmt.Sprintf("tail%dv", nv))
	}
	for nv := 1; nv < g.nv; nv++ {
		CMPQ(rem, U32(nv*g.w()))
		JLE(LabelRef(tails[nv]))
	}
	for nv := g.nv; nv >= 1; nv-- {
		Label(tails[nv])
		// Lanes live in the last vector: rem - (nv-1)·w, in 1..w.
		live := GP64()
		MOVQ(rem, live)
		if nv > 1 {
			SUBQ(U32((nv-1)*g.w()), live)
		}
		g.block(aRow, cRow, j, live, nv)
		JMP(LabelRef(next))
	}

	Label(next)
	if g.trans {
		ADDQ(U32(4*g.mr), aRow)
	} else {
		lda := Load(Param("lda"), GP64())
		IMUL3Q(U32(4*g.mr), lda, lda)
		ADDQ(lda, aRow)
	}
	ldc := Load(Param("ldc"), GP64())
	IMUL3Q(U32(4*g.mr), ldc, ldc)
	ADDQ(ldc, cRow)
	SUBQ(U32(g.mr), mLeft)
	JNZ(LabelRef(panel))
	End()
}

// aAddr returns how row r of an untransposed A panel is addressed from
// the two panel pointers (p0 at row 0, p3 at row 3) and the byte strides
// l = lda·4 and l3 = 3·l: x86 scales of 1, 2, 4 and 8 reach rows 0-8 and
// 11 from these.
func aAddr(r int, p0, p3, l, l3 Register) Mem {
	type form struct {
		base  Register
		off   int
		index Register
		mul   int
	}
	var forms []form
	for _, b := range []struct {
		base Register
		off  int
	}{{p0, 0}, {p3, 3}} {
		forms = append(forms, form{b.base, b.off, nil, 0})
		for _, s := range []int{1, 2, 4, 8} {
			forms = append(forms, form{b.base, b.off, l, s}, form{b.base, b.off, l3, 3 * s})
		}
	}
	for _, f := range forms {
		if f.base == nil || f.mul != 0 && f.index == nil || f.off+f.mul != r {
			continue
		}
		if f.index == nil {
			return Mem{Base: f.base}
		}
		scale := f.mul
		if f.index == l3 {
			scale /= 3
		}
		return Mem{Base: f.base, Index: f.index, Scale: uint8(scale)}
	}
	panic(fmt.Sprintf("row %d of an A panel is not addressable", r))
}

// smallTail describes the last vector of a tile when only its first
// lanes belong to C.
type smallTail struct {
	masked bool
	kmask  Register // AVX-512: the opmask of the live lanes
	maskAt Mem      // AVX2: the table's lanes whose first `live` are set
	// keep: on AVX2 the mask stays in ymask through the k loop when the
	// tile leaves a register free; otherwise it is reloaded from maskAt.
	keep  bool
	ymask VecVirtual
}

// smallPtrs are the k loop's cursors: B's row p at bp (stride ldb bytes),
// kk steps left, and A's column p at ap, with lda in bytes in l (and 3·lda
// in l3, rows 3-5 from ap3) for the panels that need them.
type smallPtrs struct {
	bp, ldb, kk, ap Register
	ap3, l, l3      Register
}

// block computes the mr×nv-vector tile of C at column j of the panel
// (aRow, cRow) over the whole k loop, then applies the epilogue and stores
// it. live, when not nil, holds the number of lanes (1..w) of the last
// vector that belong to C; the others are neither loaded nor stored.
func (g *smallFunc) block(aRow, cRow, j, live Register, nv int) {
	Commentf("%d×%d-vector tile, masked tail: %v", g.mr, nv, live != nil)
	tail := g.tailMask(live, nv)
	p := g.kPointers(aRow, j)
	acc := g.zeroTile(nv)
	g.kLoop(p, acc, nv, tail)
	g.epilogue(acc, cRow, j, tail.kmask, tail.maskAt, tail.masked)
}

// tailMask sets up the mask of a tile's last vector when live is not
// nil: an opmask for AVX-512, else a pointer to the lanes of the table
// whose first `live` lanes are set, kept in a register where one is free.
func (g *smallFunc) tailMask(live Register, nv int) smallTail {
	tail := smallTail{masked: live != nil}
	if tail.masked {
		t := GP64()
		LEAQ(g.table, t)
		if g.Wide {
			tail.kmask = K()
			KMOVW(Mem{Base: t, Index: live, Scale: 2}, tail.kmask)
		} else {
			off := GP64()
			MOVQ(U32(8), off)
			SUBQ(live, off)
			tail.maskAt = Mem{Base: t, Index: off, Scale: 4}
		}
	}
	// 16 registers hold mr·nv sums, nv rows of B (one masked row when B
	// is read from memory) and the broadcast: the mask fits beside them
	// only in the smaller tiles.
	bRegs := nv
	if g.memB() {
		bRegs = 1
	}
	tail.keep = tail.masked && !g.Wide && g.mr*nv+bRegs+2 <= 16
	if tail.keep {
		tail.ymask = YMM()
		VMOVDQU(tail.maskAt, tail.ymask)
	}
	return tail
}

// kPointers loads the k loop's cursors for the tile at column j of the
// panel whose A row (or, transposed, column) starts at aRow.
func (g *smallFunc) kPointers(aRow, j Register) *smallPtrs {
	p := &smallPtrs{}
	p.bp = Load(Param("b"), GP64())
	LEAQ(Mem{Base: p.bp, Index: j, Scale: 4}, p.bp)
	p.ldb = Load(Param("ldb"), GP64())
	SHLQ(U8(2), p.ldb)
	p.kk = Load(Param("k"), GP64())

	p.ap = GP64()
	MOVQ(aRow, p.ap)
	if g.trans || g.mr > 1 {
		p.l = Load(Param("lda"), GP64())
		SHLQ(U8(2), p.l)
	}
	if !g.trans && g.mr > 3 {
		p.l3 = GP64()
		LEAQ(Mem{Base: p.l, Index: p.l, Scale: 2}, p.l3)
		if g.mr > 5 {
			p.ap3 = GP64()
			LEAQ(Mem{Base: p.ap, Index: p.l3, Scale: 1}, p.ap3)
		}
	}
	return p
}

// zeroTile returns the tile's mr×nv accumulators, cleared.
func (g *smallFunc) zeroTile(nv int) [][]VecVirtual {
	acc := make([][]VecVirtual, g.mr)
	for r := range acc {
		acc[r] = make([]VecVirtual, nv)
		for v := range acc[r] {
			acc[r][v] = g.vec()
			VXORPS(acc[r][v], acc[r][v], acc[r][v])
		}
	}
	return acc
}

// kLoop emits the k loop: per step p, B's row p against the broadcast
// elements of op(A)'s column p, one FMA per accumulator.
func (g *smallFunc) kLoop(p *smallPtrs, acc [][]VecVirtual, nv int, tail smallTail) {
	loop := g.newLabel("k")
	Label(loop)
	bv, t := g.loadBRow(p.bp, nv, tail)
	for r := range g.mr {
		var am Mem
		if g.trans {
			am = Mem{Base: p.ap, Disp: 4 * r}
		} else {
			am = aAddr(r, p.ap, p.ap3, p.l, p.l3)
		}
		VBROADCASTSS(am, t)
		for v := range nv {
			VFMADD231PS(bv[v], t, acc[r][v])
		}
	}
	if g.trans {
		ADDQ(p.l, p.ap)
	} else {
		ADDQ(U8(4), p.ap)
		if p.ap3 != nil {
			ADDQ(U8(4), p.ap3)
		}
	}
	ADDQ(p.ldb, p.bp)
	DECQ(p.kk)
	JNZ(LabelRef(loop))
}

// loadBRow returns the nv vectors of B's row at bp and a temporary for
// the broadcasts. bv[v] is a register, or for memB the memory operand
// itself, except for a masked last vector, which is loaded so that no
// lane past C's row is read.
func (g *smallFunc) loadBRow(bp Register, nv int, tail smallTail) (bv []Op, t VecVirtual) {
	w := g.w()
	bv = make([]Op, nv)
	t = g.vec()
	for v := range nv {
		m := Mem{Base: bp, Disp: 4 * w * v}
		if g.memB() && (!tail.masked || v < nv-1) {
			bv[v] = m
			continue
		}
		r := g.vec()
		bv[v] = r
		switch {
		case !tail.masked || v < nv-1:
			VMOVUPS(m, bv[v])
		case g.Wide:
			VMOVUPS_Z(m, tail.kmask, bv[v])
		case tail.keep:
			VMASKMOVPS(m, tail.ymask, bv[v])
		default:
			VMOVDQU(tail.maskAt, t)
			VMASKMOVPS(m, t, bv[v])
		}
	}
	return bv, t
}

// epilogue applies alpha, beta·C, bias and ReLU as the flags ask, each a
// pass over the whole tile behind one branch, then stores the tile.
func (g *smallFunc) epilogue(acc [][]VecVirtual, cRow, j Register, kmask Register, maskAt Mem, masked bool) {
	w := g.w()
	nv := len(acc[0])
	last := func(v int) bool { return masked && v == nv-1 }
	var ymask VecVirtual
	if masked && !g.Wide {
		ymask = YMM()
		VMOVDQU(maskAt, ymask)
	}
	// loadMasked loads the live lanes of the last vector at m into dst.
	loadMasked := func(m Mem, dst VecVirtual) {
		if g.Wide {
			VMOVUPS_Z(m, kmask, dst)
		} else {
			VMASKMOVPS(m, ymask, dst)
		}
	}

	cp := GP64()
	LEAQ(Mem{Base: cRow, Index: j, Scale: 4}, cp)
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flags := Load(Param("flags"), GP64())

	skip := g.newLabel("noalpha")
	TESTQ(U32(smallAlpha), flags)
	JZ(LabelRef(skip))
	alpha := g.vec()
	VBROADCASTSS(paramAddr("alpha"), alpha)
	for r := range acc {
		for v := range acc[r] {
			VMULPS(alpha, acc[r][v], acc[r][v])
		}
	}
	Label(skip)

	skip = g.newLabel("nobeta")
	TESTQ(U32(smallBeta), flags)
	JZ(LabelRef(skip))
	beta := g.vec()
	VBROADCASTSS(paramAddr("beta"), beta)
	row := GP64()
	MOVQ(cp, row)
	for r := range acc {
		for v := range acc[r] {
			m := Mem{Base: row, Disp: 4 * w * v}
			if last(v) {
				cv := g.vec()
				loadMasked(m, cv)
				VFMADD231PS(cv, beta, acc[r][v])
			} else {
				VFMADD231PS(m, beta, acc[r][v])
			}
		}
		if r < len(acc)-1 {
			ADDQ(ldc, row)
		}
	}
	Label(skip)

	skip = g.newLabel("nobias")
	TESTQ(U32(smallBias), flags)
	JZ(LabelRef(skip))
	bias := Load(Param("bias"), GP64())
	LEAQ(Mem{Base: bias, Index: j, Scale: 4}, bias)
	for v := range nv {
		bv := g.vec()
		m := Mem{Base: bias, Disp: 4 * w * v}
		if last(v) {
			loadMasked(m, bv)
		} else {
			VMOVUPS(m, bv)
		}
		for r := range acc {
			VADDPS(bv, acc[r][v], acc[r][v])
		}
	}
	Label(skip)

	skip = g.newLabel("norelu")
	TESTQ(U32(smallRelu), flags)
	JZ(LabelRef(skip))
	zero := g.vec()
	VXORPS(zero, zero, zero)
	for r := range acc {
		for v := range acc[r] {
			// max(zero, x) returns its second source, x, when x is NaN or
			// ±0, so NaN and −0 pass through as refRelu keeps them.
			VMAXPS(acc[r][v], zero, acc[r][v])
		}
	}
	Label(skip)

	for r := range acc {
		for v := range acc[r] {
			m := Mem{Base: cp, Disp: 4 * w * v}
			switch {
			case !last(v):
				VMOVUPS(acc[r][v], m)
			case g.Wide:
				VMOVUPS(acc[r][v], kmask, m)
			default:
				VMASKMOVPS(acc[r][v], ymask, m)
			}
		}
		if r < len(acc)-1 {
			ADDQ(ldc, cp)
		}
	}
}

func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// TNCols generates SgemmSmallTNCols<t><ISA>, t = 1..4 (AVX-512 when wide,
// else AVX2): the last t columns of C = Aᵀ·B computed with the vectors
// along C's rows instead of its columns. The TN kernels above give each
// row of C vectors of 16 (8) columns, so the tutorial's 100 units end in a
// vector with 4 live lanes, in a tile of only 8 (4) sums that barely
// covers the FMA latency: in the weight gradient Xᵀ·dZ (784×100, k =
// batch) that vector is one FMA in seven (thirteen). Here column j of C's
// rows i.. is one vector: Aᵀ's rows are A's columns, so A's row p holds
// those rows' elements side by side, and B's element (p, j) is broadcast.
// Every element is still the one chain of k FMAs from zero in the order
// p = 0..k-1, so the bits are those of the other kernels. Tiles are 64
// rows (then 16) on AVX-512 and 16 rows on AVX2, by the t columns; C's
// blocks are transposed in registers and stored row by row, t lanes each:
// on AVX-512 under a mask, on AVX2 with plain 16-, 8- and 4-byte moves,
// never VMASKMOVPS, which AMD lets fault on masked-off lanes (and the last
// row's may lie past C).
func TNCols(wide bool) {
	g := colsGen{wide: wide}
	for t := 1; t <= 4; t++ {
		g.emit(t)
	}
}

type colsGen struct{ wide bool }

func (g colsGen) isa() string {
	if g.wide {
		return "AVX512"
	}
	return "AVX2"
}

func (g colsGen) vec() VecVirtual {
	if g.wide {
		return ZMM()
	}
	return YMM()
}

// lanes is the number of float32 a vector holds.
func (g colsGen) lanes() int {
	if g.wide {
		return 16
	}
	return 8
}

// tiles are the vectors of rows per tile, widest first; every one covers
// a multiple of 16 rows.
func (g colsGen) tiles() []int {
	if g.wide {
		return []int{4, 1}
	}
	return []int{2}
}

func (g colsGen) emit(t int) {
	name := fmt.Sprintf("SgemmSmallTNCols%d%s", t, g.isa())
	TEXT(name, NOSPLIT, "func(m, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s computes an m×%d product C = Aᵀ·B: C[i*ldc+j] = Σ_p a[p*lda+i]·b[p*ldb+j]", name, t),
		fmt.Sprintf("for i < m, j < %d, each sum one chain of FMAs from zero in the order of p, as", t),
		"the SgemmSmallTN kernels form it (Go reference: Sgemm on the generic level).",
		"Assembly because it needs FMA and the in-register transposition.",
		"Preconditions: m ≥ 16 and a multiple of 16, k ≥ 1, all of A, B, C in bounds;",
		fmt.Sprintf("nothing outside C's m×%d region is touched.", t),
	)
	aRow := Load(Param("a"), GP64())
	cRow := Load(Param("c"), GP64())
	mLeft := Load(Param("m"), GP64())
	var kmask Register
	if g.wide && t < 4 {
		kmask = K()
		r := GP32()
		MOVL(U32(1<<t-1), r)
		KMOVW(r, kmask)
	}
	for _, nv := range g.tiles() {
		rows := g.lanes() * nv
		loop, done := fmt.Sprintf("cols%d_rows%d", t, rows), fmt.Sprintf("cols%d_rows%d_done", t, rows)
		Label(loop)
		CMPQ(mLeft, U32(rows))
		JL(LabelRef(done))
		g.tile(t, nv, aRow, cRow, kmask)
		ADDQ(U32(4*rows), aRow)
		ldc := Load(Param("ldc"), GP64())
		IMUL3Q(U32(4*rows), ldc, ldc)
		ADDQ(ldc, cRow)
		SUBQ(U32(rows), mLeft)
		JMP(LabelRef(loop))
		Label(done)
	}
	VZEROUPPER()
	RET()
}

// tile computes the nv vectors of rows from aRow of the t columns and
// stores them at cRow.
func (g colsGen) tile(t, nv int, aRow, cRow, kmask Register) {
	w := g.lanes()
	Commentf("%d rows × %d columns", w*nv, t)
	acc := make([][]VecVirtual, t)
	for j := range acc {
		acc[j] = make([]VecVirtual, nv)
		for v := range acc[j] {
			acc[j][v] = g.vec()
			VXORPS(acc[j][v], acc[j][v], acc[j][v])
		}
	}
	ap := GP64()
	MOVQ(aRow, ap)
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	bp := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	kk := Load(Param("k"), GP64())
	loop := fmt.Sprintf("cols%d_k%d", t, w*nv)
	Label(loop)
	av := make([]VecVirtual, nv)
	for v := range av {
		av[v] = g.vec()
		VMOVUPS(Mem{Base: ap, Disp: 4 * w * v}, av[v])
	}
	for j := range t {
		bv := g.vec()
		VBROADCASTSS(Mem{Base: bp, Disp: 4 * j}, bv)
		for v := range nv {
			VFMADD231PS(bv, av[v], acc[j][v])
		}
	}
	ADDQ(lda, ap)
	ADDQ(ldb, bp)
	DECQ(kk)
	JNZ(LabelRef(loop))

	// With u0..u3 the columns (zero past t), unpacking pairs of singles
	// then pairs of doubles leaves in 128-bit lane l of r[q] the four
	// columns of row 4l+q.
	cp := GP64()
	MOVQ(cRow, cp)
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	var zero VecVirtual
	if t < 4 {
		zero = g.vec()
		VXORPS(zero, zero, zero)
	}
	for v := range nv {
		u := make([]VecVirtual, 4)
		for j := range u {
			if j < t {
				u[j] = acc[j][v]
			} else {
				u[j] = zero
			}
		}
		t0, t1, t2, t3 := g.vec(), g.vec(), g.vec(), g.vec()
		VUNPCKLPS(u[1], u[0], t0) // u0[0] u1[0] u0[1] u1[1] per lane
		VUNPCKHPS(u[1], u[0], t1) // u0[2] u1[2] u0[3] u1[3]
		VUNPCKLPS(u[3], u[2], t2)
		VUNPCKHPS(u[3], u[2], t3)
		r := []VecVirtual{g.vec(), g.vec(), g.vec(), g.vec()}
		VUNPCKLPD(t2, t0, r[0]) // rows 4l
		VUNPCKHPD(t2, t0, r[1]) // rows 4l+1
		VUNPCKLPD(t3, t1, r[2]) // rows 4l+2
		VUNPCKHPD(t3, t1, r[3]) // rows 4l+3
		for l := range w / 4 {
			for q := range 4 {
				g.storeRow(t, l, r[q], kmask, Mem{Base: cp})
				if v < nv-1 || l < w/4-1 || q < 3 {
					ADDQ(ldc, cp)
				}
			}
		}
	}
}

// storeRow writes the first t floats of 128-bit lane l of x to m.
func (g colsGen) storeRow(t, l int, x VecVirtual, kmask Register, m Mem) {
	if g.wide {
		switch {
		case l == 0 && t == 4:
			VMOVUPS(x.AsX(), m)
		case l == 0:
			VMOVUPS(x.AsX(), kmask, m)
		case t == 4:
			VEXTRACTF32X4(U8(l), x, m)
		default:
			VEXTRACTF32X4(U8(l), x, kmask, m)
		}
		return
	}
	lx := x.AsX()
	if l > 0 {
		lx = XMM()
		VEXTRACTF128(U8(l), x, lx)
	}
	switch t {
	case 4:
		VMOVUPS(lx, m)
	case 3:
		VMOVLPS(lx, m)
		VEXTRACTPS(U8(2), lx, m.Offset(8))
	case 2:
		VMOVLPS(lx, m)
	case 1:
		VMOVSS(lx, m)
	}
}
