package avx

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// This file emits the optimizer steps and vector reductions for both the
// AVX2 and the AVX-512 generators (gen/optim_avx2, gen/optim_avx512). The
// arithmetic is the same at both widths; only the vector registers and the
// way a partial last vector is loaded and stored differ, so the kernels are
// written once against OptimLevel.
//
// Bit-identity with the Go reference (kernels/ref_optim.go, ref.go) is the
// contract: every operation is a separate, correctly rounded VMULPS,
// VADDPS, VSUBPS, VDIVPS or VSQRTPS in the reference's order, never a fused
// multiply-add. Operands of commutative operations may be swapped: that
// changes nothing but which NaN payload propagates, which the package does
// not specify.

// OptimLevel describes one vector ISA for GenerateOptim.
type OptimLevel struct {
	// Suffix ends every function name: "AVX2" or "AVX512".
	Suffix string
	// AVX512 selects ZMM registers and K-mask tails; otherwise YMM
	// registers, at most 16 of them, and element-by-element tails.
	AVX512 bool
	// Unroll is how many vectors one iteration of a main loop handles.
	Unroll int
	// ColBlock is how many vectors of columns ColSum sums at once.
	ColBlock int

	flush *slotFlush // set by GenerateOptim
}

// width is the number of float32 lanes of one vector.
func (l *OptimLevel) width() int {
	if l.AVX512 {
		return 16
	}
	return 8
}

func (l *OptimLevel) vec() VecVirtual {
	if l.AVX512 {
		return ZMM()
	}
	return YMM()
}

// A partial vector: on AVX-512 the first r lanes under a K mask, whose
// masked-off lanes are architecturally never read or written (no fault
// past the slice); on AVX2 a single element in the lowest lane. AVX2 has
// VMASKMOVPS, but AMD documents its behaviour on masked-off elements as
// implementation dependent (a page fault is allowed), so AVX2 tails go one
// element at a time with VMOVSS, which also zeroes the other lanes: the
// same full-width arithmetic then runs on zeros there, harmlessly, since
// Go runs with floating-point exceptions masked.
type optPart struct {
	k      Register // AVX-512 mask
	scalar bool     // AVX2: one element
}

// optKMask returns a K register with the low r bits set, 0 ≤ r ≤ 32.
func optKMask(r Register) Register {
	// (1<<r)−1 without a shift by CL: set bit r of zero, subtract one.
	b := GP64()
	XORQ(b, b)
	BTSQ(r, b)
	DECQ(b)
	k := K()
	KMOVD(b.As32(), k)
	return k
}

// load returns a vector read from m, or with part only its part.
func (l *OptimLevel) load(m Mem, part *optPart, dst VecVirtual) VecVirtual {
	switch {
	case part == nil:
		VMOVUPS(m, dst)
	case part.scalar:
		VMOVSS(m, dst.AsX())
	default:
		VMOVUPS_Z(m, part.k, dst)
	}
	return dst
}

// store writes v to m, or with part only its part.
func (l *OptimLevel) store(v VecVirtual, m Mem, part *optPart) {
	switch {
	case part == nil:
		VMOVUPS(v, m)
	case part.scalar:
		VMOVSS(v.AsX(), m)
	default:
		VMOVUPS(v, part.k, m)
	}
}

// broadcast loads the float32 parameter name into every lane.
func (l *OptimLevel) broadcast(name string) VecVirtual {
	x := XMM()
	Load(Param(name), x)
	v := l.vec()
	VBROADCASTSS(x, v)
	return v
}

// broadcastBits puts the float32 with the given bits into every lane.
func (l *OptimLevel) broadcastBits(bits uint32) VecVirtual {
	r := GP32()
	MOVL(U32(bits), r)
	x := XMM()
	MOVD(r, x)
	v := l.vec()
	VBROADCASTSS(x, v)
	return v
}

// slotFlush applies kernels' flushSlot to vectors: every lane whose
// magnitude is below 2⁻⁹⁵ (subnormals of either sign, −0, and the small
// normal values) becomes +0; NaN, ±Inf and the lanes from 2⁻⁹⁵ up are
// kept. The optimizers store each decaying slot through it and compute on
// with the flushed value, as the reference does. Both forms work on the
// bits of the value, never on arithmetic with it, so a subnormal lane
// costs no microcode assist here and the result does not depend on
// MXCSR.DAZ.
type slotFlush struct {
	l *OptimLevel
	// AVX2: 0x7fffffff (the magnitude's bits) and 0x0fffffff (the largest
	// magnitude that is flushed) in every lane, read from memory: the
	// RMSprop kernel with momentum and ḡ already needs all 16 YMM
	// registers but one. AVX-512: 0x70000000, the exponent's three high
	// bits, broadcast from memory into a test.
	abs, lim, expHi Mem
}

// slotFloorBits is 2⁻⁹⁵'s bit pattern (kernels' slotFloorBits).
const slotFloorBits = 0x10000000

// newSlotFlush returns the flush of l's kernels. GenerateOptim calls it
// once: the constants are symbols of the file.
func (l *OptimLevel) newSlotFlush() *slotFlush {
	f := &slotFlush{l: l}
	if l.AVX512 {
		// The magnitude bits at and above the floor's single set bit: a
		// lane is below the floor exactly when none of them is set.
		if slotFloorBits&(slotFloorBits-1) != 0 {
			panic("slotFloorBits must be a power of two for the AVX-512 test")
		}
		f.expHi = optConst("flushexp", 0x7fffffff&^(slotFloorBits-1))
	} else {
		f.abs = optConst("flushabs", 0x7fffffff)
		f.lim = optConst("flushlim", slotFloorBits-1)
	}
	return f
}

// optConst defines the read-only symbol name, 32 bytes of bits in every
// float32 lane.
func optConst(name string, bits uint32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(bits))
	}
	return m
}

// apply flushes x in place.
func (f *slotFlush) apply(x VecVirtual) {
	if f.l.AVX512 {
		// |x| < 2⁻⁹⁵ exactly when the exponent field is below 32, that is
		// when bits 28 to 30 are clear: one test against 0x70000000
		// (expHi) marks the lanes, and x ^= x gives +0 there (−0 included).
		k := K()
		VPTESTNMD_BCST(f.expHi, x, k)
		VXORPS(x, x, k, x)
		return
	}
	// As integers the magnitude's bits exceed 0x0fffffff exactly when
	// |x| ≥ 2⁻⁹⁵ or x is ±Inf or NaN: those lanes keep their bits, the
	// others are cleared.
	t := f.l.vec()
	VPAND(f.abs, x, t)
	VPCMPGTD(f.lim, t, t) // |x| bits > lim
	VPAND(t, x, x)
}

// optIO gives a loop body access to one block of each array.
type optIO struct {
	l    *OptimLevel
	ptrs []Register
	idx  Register
	off  int
	part *optPart
}

func (e optIO) mem(a int) Mem {
	return Mem{Base: e.ptrs[a], Index: e.idx, Scale: 4, Disp: e.off}
}

func (e optIO) ld(a int) VecVirtual    { return e.l.load(e.mem(a), e.part, e.l.vec()) }
func (e optIO) st(a int, v VecVirtual) { e.l.store(v, e.mem(a), e.part) }

// elementwise emits the loop of an elementwise kernel over n elements of
// the arrays ptrs: Unroll vectors per iteration, then single vectors, then
// the partial last vector (AVX-512) or the last elements one by one
// (AVX2). body must load and store through its optIO only, so that nothing
// past the slices is touched.
func (l *OptimLevel) elementwise(name string, n Register, ptrs []Register, body func(e optIO)) {
	w := l.width()
	i := GP64()
	XORQ(i, i)
	end := GP64()

	Label(name + "_block")
	MOVQ(i, end)
	ADDQ(U32(w*l.Unroll), end)
	CMPQ(end, n)
	JA(LabelRef(name + "_single"))
	for u := 0; u < l.Unroll; u++ {
		body(optIO{l: l, ptrs: ptrs, idx: i, off: 4 * w * u})
	}
	MOVQ(end, i)
	JMP(LabelRef(name + "_block"))

	Label(name + "_single")
	MOVQ(i, end)
	ADDQ(U32(w), end)
	CMPQ(end, n)
	JA(LabelRef(name + "_tail"))
	body(optIO{l: l, ptrs: ptrs, idx: i})
	MOVQ(end, i)
	JMP(LabelRef(name + "_single"))

	Label(name + "_tail")
	if l.AVX512 {
		r := GP64()
		MOVQ(n, r)
		SUBQ(i, r)
		JZ(LabelRef(name + "_done"))
		body(optIO{l: l, ptrs: ptrs, idx: i, part: &optPart{k: optKMask(r)}})
	} else {
		CMPQ(i, n)
		JAE(LabelRef(name + "_done"))
		body(optIO{l: l, ptrs: ptrs, idx: i, part: &optPart{scalar: true}})
		INCQ(i)
		JMP(LabelRef(name + "_tail"))
	}
	Label(name + "_done")
}

// optFunc starts a function: TEXT, doc comment (ending with why it is
// assembly), noescape.
func (l *OptimLevel) optFunc(name, sig string, doc ...string) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	doc = append(doc, fmt.Sprintf("In assembly because Go does not vectorise it: %d lanes per instruction.", l.width()))
	Doc(doc...)
}

// optBases loads the base pointers of the named slice parameters.
func optBases(names ...string) []Register {
	ptrs := make([]Register, len(names))
	for i, s := range names {
		ptrs[i] = Load(Param(s).Base(), GP64())
	}
	return ptrs
}

// GenerateOptim emits every optimizer and reduction kernel for l.
func GenerateOptim(l *OptimLevel) {
	Setup()
	l.flush = l.newSlotFlush()
	l.sgd(false)
	l.sgd(true)
	l.adagrad()
	for _, mom := range []bool{false, true} {
		for _, centered := range []bool{false, true} {
			l.rmsprop(mom, centered)
		}
	}
	l.adam(false)
	l.adam(true)
	l.sumSquares()
	l.scale()
	l.clamp()
	l.allFinite()
	l.colSum()
}

const optPreconds = "It reads len(theta) elements of every slice, which must all be at least that long."

func (l *OptimLevel) sgd(nesterov bool) {
	name := "SGDStep" + l.Suffix
	ref := "refSGDStep with Nesterov false"
	if nesterov {
		name = "SGDNesterovStep" + l.Suffix
		ref = "refSGDStep with Nesterov true"
	}
	l.optFunc(name, "func(theta, m, g []float32, negLR, mu float32)",
		name+" is "+ref+" (kernels/ref_optim.go), bit for bit,",
		"with negLR = −LR: (−g)·LR and g·(−LR) are the same float32. m is flushed",
		"as flushSlot does.",
		optPreconds)
	ptrs := optBases("theta", "m", "g")
	n := Load(Param("theta").Len(), GP64())
	nlr, mu := l.broadcast("negLR"), l.broadcast("mu")
	fl := l.flush
	l.elementwise(name, n, ptrs, func(e optIO) {
		g, m := e.ld(2), e.ld(1)
		a := l.vec()
		VMULPS(nlr, g, a) // a = −g·η
		VMULPS(mu, m, m)  // m·μ
		VADDPS(m, a, m)   // m' = a + m·μ
		fl.apply(m)
		e.st(1, m)
		th := e.ld(0)
		if nesterov {
			VMULPS(mu, m, m) // m'·μ
			VADDPS(m, a, a)  // a + m'·μ
			VADDPS(a, th, th)
		} else {
			VADDPS(m, th, th)
		}
		e.st(0, th)
	})
	End()
}

func (l *OptimLevel) adagrad() {
	name := "AdagradStep" + l.Suffix
	l.optFunc(name, "func(theta, acc, g []float32, lr, eps float32)",
		name+" is refAdagradStep (kernels/ref_optim.go), bit for bit.",
		optPreconds)
	ptrs := optBases("theta", "acc", "g")
	n := Load(Param("theta").Len(), GP64())
	lr, eps := l.broadcast("lr"), l.broadcast("eps")
	l.elementwise(name, n, ptrs, func(e optIO) {
		g, a := e.ld(2), e.ld(1)
		sq := l.vec()
		VMULPS(g, g, sq)
		VADDPS(sq, a, a) // a + g²
		e.st(1, a)
		VADDPS(eps, a, a) // a + ε
		VSQRTPS(a, a)
		VMULPS(g, lr, g) // η·g
		VDIVPS(a, g, g)  // (η·g)/sqrt(a+ε)
		th := e.ld(0)
		VSUBPS(g, th, th)
		e.st(0, th)
	})
	End()
}

func (l *OptimLevel) rmsprop(mom, centered bool) {
	name := "RMSprop"
	args := "theta, v"
	arrays := []string{"theta", "v"}
	if mom {
		name += "Momentum"
		args += ", mom"
		arrays = append(arrays, "mom")
	}
	if centered {
		name += "Centered"
		args += ", mg"
		arrays = append(arrays, "mg")
	}
	name += "Step" + l.Suffix
	arrays = append(arrays, "g")
	sig := "func(" + args + ", g []float32, lr, rho, omr"
	if mom {
		sig += ", mu"
	}
	sig += ", eps float32)"
	l.optFunc(name, sig,
		fmt.Sprintf("%s is refRMSpropStep (kernels/ref_optim.go) with mom %s and mg %s, bit for bit;",
			name, map[bool]string{false: "nil", true: "given"}[mom], map[bool]string{false: "nil", true: "given"}[centered]),
		"omr is OneMinusRho. 1/sqrt(d) is a square root then a division, as in the reference.",
		"Every slot is flushed as flushSlot does.",
		optPreconds)
	ptrs := optBases(arrays...)
	const thI, vI = 0, 1
	momI, mgI, gI := 2, 2, len(arrays)-1
	if mom {
		mgI = 3
	}
	n := Load(Param("theta").Len(), GP64())
	lr, rho, omr := l.broadcast("lr"), l.broadcast("rho"), l.broadcast("omr")
	var mu VecVirtual
	if mom {
		mu = l.broadcast("mu")
	}
	eps := l.broadcast("eps")
	one := l.broadcastBits(0x3f800000)
	fl := l.flush
	l.elementwise(name, n, ptrs, func(e optIO) {
		g, v := e.ld(gI), e.ld(vI)
		a := l.vec()
		VMULPS(g, g, a)   // g²
		VMULPS(a, omr, a) // (1−ρ)·g²
		VMULPS(v, rho, v) // ρ·v
		VADDPS(a, v, v)   // v'
		fl.apply(v)
		e.st(vI, v)
		if centered {
			mg := e.ld(mgI)
			b := l.vec()
			VMULPS(mg, rho, mg) // ρ·ḡ
			VMULPS(g, omr, b)   // (1−ρ)·g
			VADDPS(b, mg, mg)   // ḡ'
			fl.apply(mg)
			e.st(mgI, mg)
			VMULPS(mg, mg, mg) // ḡ'²
			VSUBPS(mg, v, v)   // v' − ḡ'²
		}
		VADDPS(eps, v, v) // d
		VSQRTPS(v, v)
		VDIVPS(v, one, v) // 1/sqrt(d)
		VMULPS(g, lr, g)  // η·g
		VMULPS(v, g, g)   // inc
		th := e.ld(thI)
		if mom {
			m := e.ld(momI)
			VMULPS(m, mu, m) // μ·mom
			VADDPS(g, m, m)  // + inc
			fl.apply(m)
			e.st(momI, m)
			VSUBPS(m, th, th)
		} else {
			VSUBPS(g, th, th)
		}
		e.st(thI, th)
	})
	End()
}

// optCmpNGEUQ is the VCMPPS predicate "not greater or equal, quiet": true
// when a < b or either is NaN — exactly the reference's !(v̂ >= v).
const optCmpNGEUQ = 0x19

func (l *OptimLevel) adam(ams bool) {
	name := "AdamStep" + l.Suffix
	args := "theta, m, v"
	arrays := []string{"theta", "m", "v"}
	if ams {
		name = "AMSGradStep" + l.Suffix
		args += ", vhat"
		arrays = append(arrays, "vhat")
	}
	arrays = append(arrays, "g")
	l.optFunc(name, "func("+args+", g []float32, alpha, omb1, omb2, eps float32)",
		fmt.Sprintf("%s is refAdamStep (kernels/ref_optim.go) with vhat %s, bit for bit;",
			name, map[bool]string{false: "nil", true: "given"}[ams]),
		"omb1 and omb2 are OneMinusBeta1 and OneMinusBeta2. Every slot is flushed as",
		"flushSlot does.",
		optPreconds)
	ptrs := optBases(arrays...)
	const thI, mI, vI, vhI = 0, 1, 2, 3
	gI := len(arrays) - 1
	n := Load(Param("theta").Len(), GP64())
	alpha, omb1, omb2, eps := l.broadcast("alpha"), l.broadcast("omb1"), l.broadcast("omb2"), l.broadcast("eps")
	fl := l.flush
	l.elementwise(name, n, ptrs, func(e optIO) {
		g, m := e.ld(gI), e.ld(mI)
		a := l.vec()
		VSUBPS(m, g, a)    // g − m
		VMULPS(omb1, a, a) // ·(1−β1)
		VADDPS(a, m, m)    // m'
		fl.apply(m)
		e.st(mI, m)
		v := e.ld(vI)
		VMULPS(g, g, g)    // g²
		VSUBPS(v, g, g)    // g² − v
		VMULPS(omb2, g, g) // ·(1−β2)
		VADDPS(g, v, v)    // v'
		fl.apply(v)
		e.st(vI, v)
		if ams {
			vh := e.ld(vhI)
			if l.AVX512 {
				k := K()
				VCMPPS(U8(optCmpNGEUQ), v, vh, k)
				VBLENDMPS(v, vh, k, vh) // !(v̂ >= v) ? v' : v̂
			} else {
				c := l.vec()
				VCMPPS(U8(optCmpNGEUQ), v, vh, c)
				VBLENDVPS(c, v, vh, vh)
			}
			fl.apply(vh)
			e.st(vhI, vh)
			v = vh
		}
		VSQRTPS(v, v)
		VADDPS(eps, v, v)   // sqrt + ε
		VMULPS(alpha, m, m) // m'·α
		VDIVPS(v, m, m)
		th := e.ld(thI)
		VSUBPS(m, th, th)
		e.st(thI, th)
	})
	End()
}

func (l *OptimLevel) scale() {
	name := "Scale" + l.Suffix
	l.optFunc(name, "func(x []float32, s float32)",
		name+" is refScale (kernels/ref.go): x[i] *= s, bit for bit.")
	ptrs := optBases("x")
	n := Load(Param("x").Len(), GP64())
	s := l.broadcast("s")
	l.elementwise(name, n, ptrs, func(e optIO) {
		x := e.ld(0)
		VMULPS(s, x, x)
		e.st(0, x)
	})
	End()
}

func (l *OptimLevel) clamp() {
	name := "Clamp" + l.Suffix
	l.optFunc(name, "func(x []float32, lo, hi float32)",
		name+" is refClamp (kernels/ref.go), bit for bit, for lo ≤ hi or either bound NaN.",
		"In Intel's operand order VMAXPS (VMINPS) returns its second source unless",
		"the first compares greater (less): lo > x ? lo : x, then hi < y ? hi : y,",
		"so a NaN x stays, a NaN bound is never chosen, and −0 against a zero",
		"bound keeps x, as the reference's two comparisons do.")
	ptrs := optBases("x")
	n := Load(Param("x").Len(), GP64())
	lo, hi := l.broadcast("lo"), l.broadcast("hi")
	l.elementwise(name, n, ptrs, func(e optIO) {
		x := e.ld(0)
		VMAXPS(x, lo, x) // Intel VMAXPS x, lo, x: lo > x ? lo : x
		VMINPS(x, hi, x) // hi < x ? hi : x
		e.st(0, x)
	})
	End()
}

// allFinite does not branch inside the loop: it keeps the unsigned maximum
// of |x| as bits, and one comparison at the end says whether any exponent
// field was all ones.
func (l *OptimLevel) allFinite() {
	name := "AllFinite" + l.Suffix
	l.optFunc(name, "func(x []float32) bool",
		name+" is refAllFinite (kernels/ref.go): false when some x[i] is ±Inf or NaN.")
	ptrs := optBases("x")
	n := Load(Param("x").Len(), GP64())
	abs := l.broadcastBits(0x7fffffff)
	// One accumulator per unrolled vector, so that no chain of VPMAXUD
	// limits the loop.
	accs := make([]VecVirtual, l.Unroll)
	for u := range accs {
		accs[u] = l.vec()
		if l.AVX512 {
			VPXORD(accs[u], accs[u], accs[u])
		} else {
			VPXOR(accs[u], accs[u], accs[u])
		}
	}
	l.elementwise(name, n, ptrs, func(e optIO) {
		acc := accs[e.off/(4*l.width())]
		x := e.ld(0)
		if l.AVX512 {
			VPANDD(abs, x, x)
		} else {
			VPAND(abs, x, x)
		}
		VPMAXUD(x, acc, acc)
	})
	acc := accs[0]
	for _, a := range accs[1:] {
		VPMAXUD(a, acc, acc)
	}
	// |x| as an integer is at most 0x7f7fffff exactly when x is finite.
	lim := l.broadcastBits(0x7f7fffff)
	ok := GP8()
	if l.AVX512 {
		k := K()
		VPCMPGTD(lim, acc, k) // acc > lim
		KORTESTW(k, k)
	} else {
		VPCMPGTD(lim, acc, acc)
		VPTEST(acc, acc)
	}
	SETEQ(ok)
	Store(ok, ReturnIndex(0))
	End()
}

// optSumLanes is the number of float64 partial sums of SumSquares.
// Element i is added to partial sum i mod 32, in order; the sums are then
// combined by halving: s[k] += s[k+16], then s[k+8], s[k+4], s[k+2],
// s[k+1]. Both widths follow exactly this order (AVX2 as eight vectors of
// four sums, AVX-512 as four of eight), so both give the same bits, and 32
// independent chains hide the latency of VADDPD.
const optSumLanes = 32

// sqSums is SumSquares's state while it is emitted: the element pointer
// p, the index i of the next element, and the float64 partial sums
// (hw per vector).
type sqSums struct {
	name string
	p    Register
	i    GPVirtual
	hw   int
	accs []VecVirtual
}

// mem addresses the element off bytes past element i.
func (s *sqSums) mem(off int) Mem { return Mem{Base: s.p, Index: s.i, Scale: 4, Disp: off} }

// addSq squares the float64s in d (exactly, they came from float32s) and
// adds them to acc.
func addSq(acc, d VecVirtual) {
	VMULPD(d, d, d)
	VADDPD(d, acc, acc)
}

// sumSquares: the squares of float32 values are exact in float64, so only
// the additions round. Their order is not the reference's sequential one:
// the result is within (n−1)·2⁻⁵³ of the exact sum relative to it, as the
// reference's is, not always the same bits.
func (l *OptimLevel) sumSquares() {
	name := "SumSquares" + l.Suffix
	l.optFunc(name, "func(x []float32) float64",
		name+" is refSumSquares (kernels/ref.go) with the float64 additions in",
		"another order: x[i]² is added to partial sum i mod 32, and the 32 sums are",
		"then halved pairwise (s[k] += s[k+16], +8, +4, +2, +1). Both are within",
		"(n−1)·2⁻⁵³ relative of the exact sum; the AVX2 and AVX-512 versions give",
		"the same bits.")
	s := &sqSums{name: name}
	s.p = Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	s.hw = l.width() / 2 // float64 lanes per vector
	s.accs = make([]VecVirtual, optSumLanes/s.hw)
	for k := range s.accs {
		s.accs[k] = l.vec()
		VXORPD(s.accs[k], s.accs[k], s.accs[k])
	}
	s.i = GP64()
	XORQ(s.i, s.i)
	l.sqBlocks(s, n)
	l.sqRest(s, n)
	l.sqReduce(s)
	End()
}

// sqBlocks emits the loop over whole blocks of optSumLanes elements.
func (l *OptimLevel) sqBlocks(s *sqSums, n Register) {
	end := GP64()
	Label(s.name + "_block")
	MOVQ(s.i, end)
	ADDQ(U32(optSumLanes), end)
	CMPQ(end, n)
	JA(LabelRef(s.name + "_rest"))
	for k, acc := range s.accs {
		d := l.vec()
		VCVTPS2PD(s.mem(4*s.hw*k), d)
		addSq(acc, d)
	}
	MOVQ(end, s.i)
	JMP(LabelRef(s.name + "_block"))
}

// sqRest adds the last r < 32 elements to the partial sums they belong
// to: chunk k of hw elements to accs[k].
func (l *OptimLevel) sqRest(s *sqSums, n Register) {
	Label(s.name + "_rest")
	r := GP64()
	MOVQ(n, r)
	SUBQ(s.i, r)
	if l.AVX512 {
		// All four chunks under masks, some of them empty.
		JZ(LabelRef(s.name + "_reduce"))
		all := optKMask(r)
		for k, acc := range s.accs {
			mk := all
			if k > 0 {
				mk = K()
				KSHIFTRD(U8(8*k), all, mk)
			}
			h := YMM()
			VMOVUPS_Z(s.mem(4*s.hw*k), mk, h)
			d := ZMM()
			VCVTPS2PD(h, d)
			addSq(acc, d)
		}
	} else {
		sqRestAVX2(s, r)
	}
}

// sqRestAVX2 is sqRest's AVX2 code: whole chunks of four, then up to
// three elements gathered one by one into the next chunk (VMOVSS and
// VINSERTPS read exactly the element they name).
func sqRestAVX2(s *sqSums, r GPVirtual) {
	name, hw := s.name, s.hw
	for k, acc := range s.accs {
		CMPQ(r, U8(hw))
		JB(LabelRef(fmt.Sprintf("%s_part%d", name, k)))
		d := YMM()
		VCVTPS2PD(s.mem(4*hw*k), d)
		addSq(acc, d)
		SUBQ(U8(hw), r)
	}
	JMP(LabelRef(name + "_reduce"))
	for k, acc := range s.accs {
		Label(fmt.Sprintf("%s_part%d", name, k))
		TESTQ(r, r)
		JZ(LabelRef(name + "_reduce"))
		x := XMM()
		VMOVSS(s.mem(4*hw*k), x)
		for e := 1; e < hw-1; e++ {
			CMPQ(r, U8(e))
			JE(LabelRef(fmt.Sprintf("%s_part%d_loaded", name, k)))
			VINSERTPS(U8(e<<4), s.mem(4*hw*k+4*e), x, x)
		}
		Label(fmt.Sprintf("%s_part%d_loaded", name, k))
		d := YMM()
		VCVTPS2PD(x, d)
		addSq(acc, d)
		JMP(LabelRef(name + "_reduce"))
	}
}

// sqReduce folds the partial sums by halving, in the order optSumLanes
// describes, and stores their total as the result.
func (l *OptimLevel) sqReduce(s *sqSums) {
	Label(s.name + "_reduce")
	accs := s.accs
	for step := len(accs) / 2; step >= 1; step /= 2 {
		for k := 0; k < step; k++ {
			VADDPD(accs[k+step], accs[k], accs[k])
		}
	}
	sum := accs[0]
	x := XMM()
	if l.AVX512 {
		y := YMM()
		VEXTRACTF64X4(U8(1), sum, y)
		VADDPD(y, sum.AsY(), y) // s[k] += s[k+4]
		VEXTRACTF64X2(U8(1), y, x)
		VADDPD(x, y.AsX(), x) // s[k] += s[k+2]
	} else {
		VEXTRACTF128(U8(1), sum, x)
		VADDPD(x, sum.AsX(), x) // s[k] += s[k+2]
	}
	hi := XMM()
	VUNPCKHPD(x, x, hi)
	VADDSD(hi, x, x) // s[0] += s[1]
	Store(x, ReturnIndex(0))
}

// colSum sums blocks of ColBlock vectors of columns down all the rows, in
// row order, into registers: each column sees exactly the reference's
// sequence of float32 additions starting from +0.
func (l *OptimLevel) colSum() {
	name := "ColSum" + l.Suffix
	l.optFunc(name, "func(dst, x []float32, rows, cols int)",
		name+" is refColSum (kernels/ref.go), bit for bit: dst[j] = x[0,j] + x[1,j] + …",
		"added in row order from +0. It reads rows·cols elements of x and writes",
		"cols of dst; rows, cols ≥ 0.")
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	stride := GP64()
	MOVQ(cols, stride)
	SHLQ(U8(2), stride)
	w := l.width()
	j := GP64()
	XORQ(j, j)
	end := GP64()

	// sum emits the row loop for nv vectors of columns starting at j.
	sum := func(label string, nv int, part *optPart) {
		accs := make([]VecVirtual, nv)
		for k := range accs {
			accs[k] = l.vec()
			VXORPS(accs[k], accs[k], accs[k])
		}
		p := GP64()
		LEAQ(Mem{Base: x, Index: j, Scale: 4}, p)
		r := GP64()
		MOVQ(rows, r)
		TESTQ(r, r)
		JZ(LabelRef(label + "_store"))
		Label(label + "_row")
		for k, acc := range accs {
			if part == nil {
				VADDPS(Mem{Base: p, Disp: 4 * w * k}, acc, acc)
			} else {
				v := l.load(Mem{Base: p, Disp: 4 * w * k}, part, l.vec())
				VADDPS(v, acc, acc)
			}
		}
		ADDQ(stride, p)
		DECQ(r)
		JNZ(LabelRef(label + "_row"))
		Label(label + "_store")
		for k, acc := range accs {
			l.store(acc, Mem{Base: dst, Index: j, Scale: 4, Disp: 4 * w * k}, part)
		}
	}

	Label(name + "_block")
	MOVQ(j, end)
	ADDQ(U32(w*l.ColBlock), end)
	CMPQ(end, cols)
	JA(LabelRef(name + "_single"))
	sum(name+"_b", l.ColBlock, nil)
	MOVQ(end, j)
	JMP(LabelRef(name + "_block"))

	Label(name + "_single")
	MOVQ(j, end)
	ADDQ(U32(w), end)
	CMPQ(end, cols)
	JA(LabelRef(name + "_tail"))
	sum(name+"_s", 1, nil)
	MOVQ(end, j)
	JMP(LabelRef(name + "_single"))

	Label(name + "_tail")
	if l.AVX512 {
		rem := GP64()
		MOVQ(cols, rem)
		SUBQ(j, rem)
		JZ(LabelRef(name + "_done"))
		sum(name+"_t", 1, &optPart{k: optKMask(rem)})
	} else {
		// The last columns one at a time, each down all the rows.
		CMPQ(j, cols)
		JAE(LabelRef(name + "_done"))
		sum(name+"_t", 1, &optPart{scalar: true})
		INCQ(j)
		JMP(LabelRef(name + "_tail"))
	}

	Label(name + "_done")
	End()
}
