package avx

import (
	"fmt"
	"math"

	"github.com/simdmlp/simdmlp/gen/internal/expconst"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// This file emits the elementwise, row and loss kernels of package kernels
// for one vector level (AVX2+FMA or AVX-512). Both levels share every
// formula: only loads, tails, lane selection and the 2ⁿ scaling differ, and
// those are the ElemLevel methods below.
//
// The exponential and everything built on it (sigmoid, tanh) mirror the
// scalar reference in kernels/ref_exp.go operation by operation: the same
// constants, the same order, every product rounded before it is added (no
// FMA). Lane by lane they are therefore bit-identical to exp32, sigmoid32
// and tanh32, so the accuracy bounds proved for those by the exhaustive
// scalar test carry over unchanged, and the kernel tests can demand
// identical bits instead of trusting a looser tolerance. The gradients,
// AddBias and SoftmaxGrad are exact op-by-op transcriptions for the same
// reason: the package documents them as the same bits on every level.

// ElemLevel is one vector level the elementwise generator can target.
type ElemLevel struct {
	Suffix string // appended to every function name: "AVX2", "AVX512"
	Lanes  int    // float32 lanes per vector
	is512  bool

	consts map[string]Mem        // full-width constant vectors, by name
	pre    map[string]VecVirtual // constants held in registers in the current function
	labels int
}

// ElemAVX2 returns the 256-bit level: 16 vector registers, no opmasks;
// tails are loaded and stored lane by lane (loadLanes, storeLanes) so that
// nothing touches memory past a slice.
func ElemAVX2() *ElemLevel { return &ElemLevel{Suffix: "AVX2", Lanes: 8, consts: map[string]Mem{}} }

// ElemAVX512 returns the 512-bit level: tails use K masks, 2ⁿ is VSCALEFPS,
// and the hot constants stay in registers (there are 32).
func ElemAVX512() *ElemLevel {
	return &ElemLevel{Suffix: "AVX512", Lanes: 16, is512: true, consts: map[string]Mem{}}
}

// The scalar constants of kernels/ref_exp.go (through expconst), rounded to float32 exactly
// as the Go compiler rounds them there. The kernel tests check bit-identity
// with exp32, sigmoid32 and tanh32, which would fail on any mismatch.
var elemConstBits = map[string]uint32{
	"log2e":       elemBits(expconst.Log2e),
	"magic":       elemBits(expconst.RoundMagic),
	"ln2hi":       elemBits(expconst.Ln2Hi),
	"ln2lo":       elemBits(expconst.Ln2Lo),
	"maxArg":      elemBits(expconst.MaxArg),
	"minArg":      elemBits(expconst.MinArg),
	"c2":          elemBits(expconst.C2),
	"c3":          elemBits(expconst.C3),
	"c4":          elemBits(expconst.C4),
	"c5":          elemBits(expconst.C5),
	"c6":          elemBits(expconst.C6),
	"minNormal":   elemBits(expconst.MinNormal),
	"one":         elemBits(1),
	"two":         elemBits(2),
	"negInf":      elemBits(float32(math.Inf(-1))),
	"tanhSmall":   elemBits(expconst.TanhSmall),
	"t3":          elemBits(expconst.TanhT3),
	"t5":          elemBits(expconst.TanhT5),
	"t7":          elemBits(expconst.TanhT7),
	"t9":          elemBits(expconst.TanhT9),
	"t11":         elemBits(expconst.TanhT11),
	"absMask":     0x7fffffff,
	"signBit":     0x80000000,
	"i127":        127,
	"iM126":       0xffffff82, // −126
	"oneMinusUlp": elemBits(1 - 0x1p-24),
}

// elemExpConsts are the constants exp keeps in registers on AVX-512.
var elemExpConsts = []string{"log2e", "magic", "ln2hi", "ln2lo", "maxArg", "minArg", "c2", "c3", "c4", "c5", "c6", "minNormal", "one"}

func elemBits(f float32) uint32 { return math.Float32bits(f) }

func (a *ElemLevel) v() VecVirtual {
	if a.is512 {
		return ZMM()
	}
	return YMM()
}

// mem returns the full-width vector of constant name (one 64-byte
// symbol, of which AVX2 reads the first 32 bytes).
func (a *ElemLevel) mem(name string) Mem {
	if m, ok := a.consts[name]; ok {
		return m
	}
	var m Mem
	switch name {
	case "iota":
		m = GLOBL("iota", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			DATA(4*i, U32(uint32(i)))
		}
	case "lanes":
		m = GLOBL("lanes", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			DATA(4*i, U32(uint32(a.Lanes)))
		}
	default:
		bits, ok := elemConstBits[name]
		if !ok {
			panic("avx: unknown constant " + name)
		}
		m = GLOBL(name, RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			DATA(4*i, U32(bits))
		}
	}
	a.consts[name] = m
	return m
}

// begin starts a function: TEXT with its doc, the noescape pragma and a
// fresh set of register constants.
func (a *ElemLevel) begin(name, sig string, doc ...string) {
	TEXT(name+a.Suffix, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc...)
	a.pre = map[string]VecVirtual{}
}

// preload puts constants in registers for the rest of the function on
// AVX-512, where 32 registers leave room for them beside the loop's
// temporaries. AVX2 takes them as memory operands instead: loads are
// cheap and 16 registers are not enough for both.
func (a *ElemLevel) preload(names ...string) {
	if !a.is512 {
		return
	}
	for _, n := range names {
		if _, ok := a.pre[n]; ok {
			continue
		}
		r := a.v()
		VMOVUPS(a.mem(n), r)
		a.pre[n] = r
	}
}

// c returns constant name as a source operand in the position that may be
// memory (the first in Go's order).
func (a *ElemLevel) c(name string) Op {
	if r, ok := a.pre[name]; ok {
		return r
	}
	return a.mem(name)
}

// cr returns constant name in a register, for the operand positions that
// must be registers.
func (a *ElemLevel) cr(name string) VecVirtual {
	if r, ok := a.pre[name]; ok {
		return r
	}
	r := a.v()
	VMOVUPS(a.mem(name), r)
	return r
}

func (a *ElemLevel) label(what string) string {
	a.labels++
	return fmt.Sprintf("%s%d", what, a.labels)
}

// elemChunk is one step of a loop over a row: a whole vector, or the tail of
// fewer lanes under a mask.
type elemChunk struct {
	a    *ElemLevel
	j    GPVirtual // element index of lane 0; nil for a fixed slot at disp
	disp int       // byte offset of a fixed slot
	tail bool
	ym   VecVirtual    // AVX2 tail: all-ones lanes are active
	k    OpmaskVirtual // AVX-512 tail
}

func (c *elemChunk) at(base Register) Mem {
	if c.j == nil {
		return Mem{Base: base, Disp: c.disp}
	}
	return Mem{Base: base, Index: c.j, Scale: 4}
}

// load reads lanes from base[j:]; inactive tail lanes are zero.
func (c *elemChunk) load(base Register) VecVirtual {
	v := c.a.v()
	switch {
	case !c.tail:
		VMOVUPS(c.at(base), v)
	case c.a.is512:
		VMOVUPS_Z(c.at(base), c.k, v)
	default:
		VXORPS(v, v, v)
		c.a.loadLanes(v, c.ym, c.at(base))
	}
	return v
}

// loadFill reads like load but gives inactive tail lanes the value of fill.
func (c *elemChunk) loadFill(base Register, fill VecVirtual) VecVirtual {
	v := c.a.v()
	switch {
	case !c.tail:
		VMOVUPS(c.at(base), v)
	case c.a.is512:
		VMOVAPS(fill, v)
		VMOVUPS(c.at(base), c.k, v)
	default:
		VMOVUPS(fill, v)
		c.a.loadLanes(v, c.ym, c.at(base))
	}
	return v
}

func (c *elemChunk) store(v VecVirtual, base Register) {
	switch {
	case !c.tail:
		VMOVUPS(v, c.at(base))
	case c.a.is512:
		VMOVUPS(v, c.k, c.at(base))
	default:
		c.a.storeLanes(v, c.ym, c.at(base))
	}
}

// storeLanes stores the lanes of the YMM v whose mask lanes are set (a
// prefix) one float at a time, for the reasons loadLanes gives, and
// because a VMASKMOVPS store is slow on several AMD cores. Each step
// stores lane 0 and rotates the next lane into its place. Only tails go
// through here: at most 7 floats, once per row or array.
func (a *ElemLevel) storeLanes(v, mask VecVirtual, dst Mem) {
	lLoop, lDone := a.label("lanes"), a.label("lanesdone")
	bits, p := GP32(), GP64()
	VMOVMSKPS(mask, bits)
	LEAQ(dst, p)
	w, rot := YMM(), YMM()
	VMOVUPS(v, w)
	VMOVUPS(a.rotTable(), rot)
	TESTL(bits, bits)
	JZ(LabelRef(lDone))
	Label(lLoop)
	VMOVSS(w.AsX(), Mem{Base: p})
	ADDQ(U8(4), p)
	VPERMD(w, rot, w)
	SHRL(U8(1), bits)
	JNZ(LabelRef(lLoop))
	Label(lDone)
}

// loadLanes loads the lanes of src whose mask lanes are set (a prefix)
// into v one float at a time, last first, each step moving the lanes
// loaded so far up by one; the other lanes keep v's values if v is
// uniform. VMASKMOVPS would do it in one instruction on hardware, which
// suppresses faults on masked-off lanes, but qemu's emulation faults on
// them at the end of a mapping, and CI runs the AVX2 level under qemu.
func (a *ElemLevel) loadLanes(v, mask VecVirtual, src Mem) {
	lLoop, lDone := a.label("ld"), a.label("lddone")
	bits, idx, p := GP32(), GP32(), GP64()
	VMOVMSKPS(mask, bits)
	LEAQ(src, p)
	rot, b := YMM(), YMM()
	VMOVUPS(a.rotUpTable(), rot)
	TESTL(bits, bits)
	JZ(LabelRef(lDone))
	Label(lLoop)
	BSRL(bits, idx)
	VBROADCASTSS(Mem{Base: p, Index: idx.As64(), Scale: 4}, b)
	VPERMD(v, rot, v)
	VBLENDPS(U8(1), b, v, v)
	BTRL(idx, bits)
	TESTL(bits, bits) // BTR leaves ZF undefined
	JNZ(LabelRef(lLoop))
	Label(lDone)
}

// rotUpTable is the VPERMD index that moves lane i to lane i+1.
func (a *ElemLevel) rotUpTable() Mem {
	if m, ok := a.consts["rotup"]; ok {
		return m
	}
	m := GLOBL("rotup", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(uint32((i+7)%8)))
	}
	a.consts["rotup"] = m
	return m
}

// rotTable is the VPERMD index that moves lane i+1 to lane i.
func (a *ElemLevel) rotTable() Mem {
	if m, ok := a.consts["rot"]; ok {
		return m
	}
	m := GLOBL("rot", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(uint32((i+1)%8)))
	}
	a.consts["rot"] = m
	return m
}

// active clears the inactive tail lanes of v in place.
func (c *elemChunk) active(v VecVirtual) {
	switch {
	case !c.tail:
	case c.a.is512:
		VMOVAPS_Z(v, c.k, v)
	default:
		VANDPS(c.ym, v, v)
	}
}

// loop emits a loop over elements 0..n-1 of a row: body runs for each
// whole vector and, if n is not a multiple of the width, once more for the
// tail under a mask. n is not modified.
func (a *ElemLevel) loop(n GPVirtual, body func(c *elemChunk)) { a.loopTail(n, body, true) }

// loopTail is loop, with the tail left out when tail is false: the
// elements past the last whole vector are then not visited.
func (a *ElemLevel) loopTail(n GPVirtual, body func(c *elemChunk), tail bool) {
	lLoop, lTail, lDone := a.label("loop"), a.label("tail"), a.label("done")
	j, rem := GP64(), GP64()
	XORQ(j, j)
	Label(lLoop)
	MOVQ(n, rem)
	SUBQ(j, rem)
	CMPQ(rem, Imm(uint64(a.Lanes)))
	JLT(LabelRef(lTail))
	body(&elemChunk{a: a, j: j})
	ADDQ(Imm(uint64(a.Lanes)), j)
	JMP(LabelRef(lLoop))

	Label(lTail)
	if !tail {
		return
	}
	TESTQ(rem, rem)
	JZ(LabelRef(lDone))
	c := &elemChunk{a: a, j: j, tail: true}
	tbl := GP64()
	if a.is512 {
		LEAQ(a.kmaskTable(), tbl)
		c.k = K()
		KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, c.k)
	} else {
		// Lanes 0..rem-1 of the mask come from the ones half of the table.
		LEAQ(a.ymaskTable(), tbl)
		NEGQ(rem)
		c.ym = YMM()
		VMOVUPS(Mem{Base: tbl, Index: rem, Scale: 4, Disp: 32}, c.ym)
	}
	body(c)
	Label(lDone)
}

// ymaskTable is eight all-ones lanes followed by eight zero lanes: the
// AVX2 tail mask of r lanes starts r lanes before the zeros.
func (a *ElemLevel) ymaskTable() Mem {
	if m, ok := a.consts["ymask"]; ok {
		return m
	}
	m := GLOBL("ymask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		bits := uint32(0)
		if i < 8 {
			bits = 0xffffffff
		}
		DATA(4*i, U32(bits))
	}
	a.consts["ymask"] = m
	return m
}

// kmaskTable holds (1<<r)−1 as 16-bit masks for r = 0..16, so that the
// AVX-512 tail mask is one load (no BMI2 needed).
func (a *ElemLevel) kmaskTable() Mem {
	if m, ok := a.consts["kmask"]; ok {
		return m
	}
	m := GLOBL("kmask", RODATA|NOPTR)
	for i := 0; i <= 16; i++ {
		DATA(2*i, U16(uint16(1<<i-1)))
	}
	a.consts["kmask"] = m
	return m
}

// exp returns exp32(x) lane by lane; x is not modified. See ref_exp.go
// for the algorithm; every step here is the same float32 operation.
func (a *ElemLevel) exp(x VecVirtual) VecVirtual {
	// min and max with x as the operand returned on NaN keep NaN.
	t := a.v()
	VMINPS(x, a.cr("maxArg"), t)
	VMAXPS(t, a.cr("minArg"), t)
	n := a.v()
	VMULPS(a.c("log2e"), t, n)
	kv := a.v()
	VADDPS(a.c("magic"), n, kv)
	VSUBPS(a.c("magic"), kv, n)
	r := a.v()
	VMULPS(a.c("ln2hi"), n, r)
	VSUBPS(r, t, r)
	u := a.v()
	VMULPS(a.c("ln2lo"), n, u)
	VSUBPS(u, r, r)
	q := a.v()
	VMULPS(a.c("c6"), r, q)
	VADDPS(a.c("c5"), q, q)
	for _, c := range []string{"c4", "c3", "c2"} {
		VMULPS(r, q, q)
		VADDPS(a.c(c), q, q)
	}
	VMULPS(r, r, u)
	VMULPS(q, u, u)
	VADDPS(r, u, u)
	VADDPS(a.c("one"), u, u)
	if a.is512 {
		// p·2ⁿ with one rounding, as the reference's two exact-then-one
		// rounding factors give; n is at most 128 after the clamp.
		VSCALEFPS(n, u, u)
		k := K()
		VCMPPS(U8(5), a.c("minNormal"), u, k) // not less than (NaN kept)
		VMOVAPS_Z(u, k, u)
	} else {
		VPSUBD(a.c("magic"), kv, kv) // n as an integer
		// The lanes the reference flushes are found from n and p instead
		// of from the product: forming a subnormal product costs a
		// microcode assist per instruction on these cores (Exp of inputs
		// near −88 ran five times slower). p·2ⁿ ≥ 2⁻¹²⁶ exactly when
		// n ≥ −125, or n = −126 and p ≥ 1−2⁻²⁴ (p·2⁻¹²⁶ then rounds, ties
		// to even, to at least 2⁻¹²⁶, which is max(p, 1)·2⁻¹²⁶ exactly).
		// The flushed lanes scale by 2⁰ and are cleared; NaN lanes are
		// never flushed.
		fl := a.v()
		VPCMPGTD(kv, a.cr("iM126"), fl) // n < −126
		e126 := a.v()
		VPCMPEQD(a.c("iM126"), kv, e126)
		lt := a.v()
		VCMPPS(U8(1), a.c("oneMinusUlp"), u, lt) // p < 1−2⁻²⁴, false for NaN
		VANDPS(e126, lt, lt)
		VORPS(lt, fl, fl)
		VCMPPS(U8(7), u, u, lt) // ordered: p is not NaN
		VANDPS(lt, fl, fl)
		VMAXPS(u, a.cr("one"), lt) // NaN p stays NaN
		VBLENDVPS(e126, lt, u, u)
		VPANDN(kv, fl, kv)
		k1 := a.v()
		VPSRAD(U8(1), kv, k1)
		VPSUBD(k1, kv, kv)
		VPADDD(a.c("i127"), k1, k1)
		VPSLLD(U8(23), k1, k1)
		VPADDD(a.c("i127"), kv, kv)
		VPSLLD(U8(23), kv, kv)
		VMULPS(k1, u, u)
		VMULPS(kv, u, u)
		VANDNPS(u, fl, u)
	}
	return u
}

// sigmoid returns sigmoid32(x) lane by lane: e = exp(−|x|), then e/(1+e)
// where the sign bit of x is set and 1/(1+e) elsewhere.
func (a *ElemLevel) sigmoid(x VecVirtual) VecVirtual {
	na := a.v()
	VORPS(a.c("signBit"), x, na)
	e := a.exp(na)
	num := a.v()
	if a.is512 {
		k := K()
		VPMOVD2M(x, k)
		VBLENDMPS(e, a.cr("one"), k, num)
	} else {
		VBLENDVPS(x, e, a.cr("one"), num)
	}
	VADDPS(a.c("one"), e, e)
	VDIVPS(e, num, num)
	return num
}

// tanh returns tanh32(x) lane by lane: both the small-|x| polynomial and
// the exp form, chosen per lane, with the sign of x copied in.
func (a *ElemLevel) tanh(x VecVirtual) VecVirtual {
	ax := a.v()
	VANDPS(a.c("absMask"), x, ax)
	a2 := a.v()
	VMULPS(ax, ax, a2)
	p := a.v()
	VMULPS(a.c("t11"), a2, p)
	VADDPS(a.c("t9"), p, p)
	for _, c := range []string{"t7", "t5", "t3"} {
		VMULPS(a2, p, p)
		VADDPS(a.c(c), p, p)
	}
	VMULPS(ax, a2, a2)
	VMULPS(p, a2, a2)
	VADDPS(ax, a2, a2) // polynomial form

	d := a.v()
	VADDPS(ax, ax, d)
	e := a.exp(d)
	VADDPS(a.c("one"), e, e)
	VDIVPS(e, a.cr("two"), e)
	VSUBPS(e, a.cr("one"), e) // exp form
	if a.is512 {
		k := K()
		VCMPPS(U8(1), a.c("tanhSmall"), ax, k)
		VMOVAPS(a2, k, e)
	} else {
		m := a.v()
		VCMPPS(U8(1), a.c("tanhSmall"), ax, m)
		VBLENDVPS(m, a2, e, e)
	}
	s := a.v()
	VANDPS(a.c("signBit"), x, s)
	VORPS(s, e, e)
	return e
}

// relu keeps x unless it is below zero: MAXPS returns its second source
// (x) when they are unordered or equal, so NaN and −0 survive.
func (a *ElemLevel) relu(x VecVirtual) VecVirtual {
	z := a.v()
	VXORPS(z, z, z)
	VMAXPS(x, z, x)
	return x
}

// Elem emits every elementwise kernel for level a.
func GenerateElem(a *ElemLevel) {
	s := a.Suffix
	why := fmt.Sprintf("Assembly because Go has no vector instructions: %d lanes per instruction, the tail under a mask.", a.Lanes)
	acts := []struct {
		name, formula, ref, bound string
		pre                       []string
		f                         func(VecVirtual) VecVirtual
	}{
		{"Relu", "max(x[i], 0)", "refRelu", "exactly, keeping NaN and −0", nil, a.relu},
		{"Sigmoid", "1/(1+exp(−x[i]))", "refSigmoid (sigmoid32)", "bit-identical to sigmoid32 lane by lane, hence within 2 ulp", append([]string{"signBit"}, elemExpConsts...), a.sigmoid},
		{"Tanh", "tanh(x[i])", "refTanh (tanh32)", "bit-identical to tanh32 lane by lane, hence within 1 ulp", append([]string{"absMask", "signBit", "t3", "t5", "t7", "t9", "t11", "tanhSmall", "two"}, elemExpConsts...), a.tanh},
		{"Exp", "exp(x[i])", "exp32", "bit-identical to exp32 lane by lane, hence within 1 ulp where the result is normal and 0 below 2⁻¹²⁶", elemExpConsts, a.exp},
	}
	for _, act := range acts {
		doc := []string{
			fmt.Sprintf("%s%s sets dst[i] = %s for i < len(x), %s.", act.name, s, act.formula, act.bound),
			fmt.Sprintf("Reference: %s in package kernels. len(dst) must equal len(x); dst may be x.", act.ref),
		}
		if act.name == "Exp" {
			doc = append(doc, "It is not a kernel of its own: the tests use it to check the vector exponential against exp32 over every float32.")
		} else {
			doc = append(doc, why)
		}
		a.begin(act.name, "func(dst, x []float32)", doc...)
		dst := elemArg(Param("dst").Base())
		x := elemArg(Param("x").Base())
		n := elemArg(Param("x").Len())
		a.preload(act.pre...)
		a.loop(n, func(c *elemChunk) {
			c.store(act.f(c.load(x)), dst)
		})
		End()
	}

	grads := []struct {
		name, formula string
		f             func(c *elemChunk, dy, y VecVirtual) VecVirtual
	}{
		{"ReluGrad", "dy[i] where y[i] > 0, else 0", func(c *elemChunk, dy, y VecVirtual) VecVirtual {
			z := a.v()
			VXORPS(z, z, z)
			if a.is512 {
				k := K()
				VCMPPS(U8(1), y, z, k) // 0 < y: false for NaN
				VMOVAPS_Z(dy, k, dy)
			} else {
				VCMPPS(U8(1), y, z, z)
				VANDPS(dy, z, dy)
			}
			return dy
		}},
		{"SigmoidGrad", "(dy[i]·y[i])·(1−y[i])", func(c *elemChunk, dy, y VecVirtual) VecVirtual {
			VMULPS(y, dy, dy)
			u := a.cr("one")
			w := a.v()
			VSUBPS(y, u, w)
			VMULPS(w, dy, dy)
			return dy
		}},
		{"TanhGrad", "dy[i]·(1−y[i]²)", func(c *elemChunk, dy, y VecVirtual) VecVirtual {
			VMULPS(y, y, y)
			w := a.v()
			VSUBPS(y, a.cr("one"), w)
			VMULPS(w, dy, dy)
			return dy
		}},
	}
	for _, g := range grads {
		a.begin(g.name, "func(dx, dy, y []float32)",
			fmt.Sprintf("%s%s sets dx[i] = %s, each operation rounded to float32 (no FMA),", g.name, s, g.formula),
			fmt.Sprintf("so the bits equal ref%s in package kernels. dy and y must be as long as dx; dx may be dy.", g.name),
			why)
		dx := elemArg(Param("dx").Base())
		dy := elemArg(Param("dy").Base())
		y := elemArg(Param("y").Base())
		n := elemArg(Param("dx").Len())
		a.preload("one")
		a.loop(n, func(c *elemChunk) {
			c.store(g.f(c, c.load(dy), c.load(y)), dx)
		})
		End()
	}

	biasActs := []struct {
		name, ref, what string
		pre             []string
		f               func(VecVirtual) VecVirtual
	}{
		{"AddBias", "refAddBias", "", nil, func(v VecVirtual) VecVirtual { return v }},
		{"BiasRelu", "refBiasRelu", " and applies ReLU", nil, a.relu},
		{"BiasSigmoid", "refBiasSigmoid", " and applies the sigmoid of Sigmoid" + s, acts[1].pre, a.sigmoid},
		{"BiasTanh", "refBiasTanh", " and applies the tanh of Tanh" + s, acts[2].pre, a.tanh},
	}
	for _, b := range biasActs {
		a.begin(b.name, "func(x, bias []float32, rows, cols int)",
			fmt.Sprintf("%s%s adds bias[j] to column j of the rows×cols matrix x in place%s, in one", b.name, s, b.what),
			"pass, with the bits of "+b.ref+" in package kernels. len(x) ≥ rows·cols, len(bias) ≥ cols.",
			why)
		x := elemArg(Param("x").Base())
		bias := elemArg(Param("bias").Base())
		rows := elemArg(Param("rows"))
		cols := elemArg(Param("cols"))
		a.preload(b.pre...)
		// Rows of at least one vector end with a whole vector that
		// overlaps the one before it instead of a masked tail: a masked
		// store's range would reach into the next row, and the next row's
		// first load would then wait for that store to reach the cache
		// (measured: AddBias on 32×100 took 2.8 times as long as on
		// 32×96). The overlapping vector is loaded and computed before
		// the row's other stores, so it writes the same bits they do.
		lMasked, lEnd := a.label("masked"), a.label("end")
		CMPQ(cols, Imm(uint64(a.Lanes)))
		JLT(LabelRef(lMasked))
		tj := GP64()
		MOVQ(cols, tj)
		SUBQ(Imm(uint64(a.Lanes)), tj)
		a.rows(rows, cols, []GPVirtual{x}, func() {
			lc := &elemChunk{a: a, j: tj}
			t := lc.load(x)
			VADDPS(lc.load(bias), t, t)
			t = b.f(t)
			a.loopTail(cols, func(c *elemChunk) {
				v := c.load(x)
				VADDPS(c.load(bias), v, v)
				c.store(b.f(v), x)
			}, false)
			lc.store(t, x)
		})
		JMP(LabelRef(lEnd))

		// Rows shorter than a vector: one masked vector per row,
		// software-pipelined so that row i+1 is loaded before row i is
		// stored (the masked store reaches into row i+1). The bias
		// vector is the same for every row.
		Label(lMasked)
		TESTQ(rows, rows)
		JZ(LabelRef(lEnd))
		TESTQ(cols, cols)
		JZ(LabelRef(lEnd))
		a.smallRows(cols, lEnd, func(slots []*elemChunk) {
			c := slots[0]
			bv := c.load(bias)
			rd := GP64()
			MOVQ(x, rd)
			v := a.v()
			VADDPS(c.load(rd), bv, v)
			lLoop, lLast := a.label("maskedrow"), a.label("maskedlast")
			Label(lLoop)
			out := a.v()
			VMOVUPS(v, out) // the activations may work in place
			out = b.f(out)
			DECQ(rows)
			JZ(LabelRef(lLast))
			LEAQ(Mem{Base: rd, Index: cols, Scale: 4}, rd)
			VADDPS(c.load(rd), bv, v)
			c.store(out, x)
			LEAQ(Mem{Base: x, Index: cols, Scale: 4}, x)
			JMP(LabelRef(lLoop))
			Label(lLast)
			c.store(out, x)
		})
		Label(lEnd)
		End()
	}

	a.softmax(false)
	a.softmax(true)
	a.softmaxGrad()
	a.crossEntropy()
	a.argmax()
}

// smallMax is the widest row the register-resident paths take.
func (a *ElemLevel) smallMax() int {
	if a.is512 {
		return a.Lanes
	}
	return 2 * a.Lanes
}

// smallRows emits the register-resident paths for short rows: for each
// slot count k the level offers (AVX-512: 1; AVX2: 1 and 2), rows of at
// most k vectors are handled by body with k fixed slots, the last one
// masked to the row's length, the masks computed once per call. Longer
// rows fall through to the code after smallRows; a small path ends by
// jumping to done. The trainer's 10-column softmax is one masked AVX-512
// vector or two AVX2 vectors per row: each row is loaded once and stored
// once, with no store-to-load round trip through the output.
func (a *ElemLevel) smallRows(cols GPVirtual, done string, body func(slots []*elemChunk)) {
	counts := []int{1}
	if !a.is512 {
		counts = []int{1, 2}
	}
	for _, k := range counts {
		lNext := a.label("notsmall")
		CMPQ(cols, Imm(uint64(k*a.Lanes)))
		JGT(LabelRef(lNext))
		slots := make([]*elemChunk, k)
		for i := range slots {
			slots[i] = &elemChunk{a: a, disp: 4 * i * a.Lanes}
		}
		last := slots[k-1]
		last.tail = true
		rem := GP64()
		MOVQ(cols, rem)
		if k > 1 {
			SUBQ(Imm(uint64((k-1)*a.Lanes)), rem)
		}
		tbl := GP64()
		if a.is512 {
			LEAQ(a.kmaskTable(), tbl)
			last.k = K()
			KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, last.k)
		} else {
			LEAQ(a.ymaskTable(), tbl)
			NEGQ(rem)
			last.ym = YMM()
			VMOVUPS(Mem{Base: tbl, Index: rem, Scale: 4, Disp: 32}, last.ym)
		}
		body(slots)
		JMP(LabelRef(done))
		Label(lNext)
	}
}

// rows emits a loop over rows: body runs once per row, after which each
// pointer in ptrs advances by cols floats. rows is consumed.
func (a *ElemLevel) rows(rows, cols GPVirtual, ptrs []GPVirtual, body func()) {
	lRow, lEnd := a.label("row"), a.label("rowsdone")
	Label(lRow)
	TESTQ(rows, rows)
	JZ(LabelRef(lEnd))
	body()
	for _, p := range ptrs {
		LEAQ(Mem{Base: p, Index: cols, Scale: 4}, p)
	}
	DECQ(rows)
	JMP(LabelRef(lRow))
	Label(lEnd)
}

// extract128 copies the upper 128 bits of the 256-bit y into a new XMM.
func (a *ElemLevel) extract128(y VecVirtual) VecVirtual {
	x := XMM()
	if a.is512 {
		VEXTRACTF32X4(U8(1), y, x) // EVEX: the registers may be X16–X31
	} else {
		VEXTRACTF128(U8(1), y, x)
	}
	return x
}

// low256 returns the lower 256 bits of v combined with op with its upper
// 256 bits on AVX-512, or v itself on AVX2.
func (a *ElemLevel) low256(v VecVirtual, op func(a, b, dst Op)) VecVirtual {
	if !a.is512 {
		return v
	}
	t := YMM()
	VEXTRACTF64X4(U8(1), v, t)
	op(t, v.AsY(), t)
	return t
}

// hmax returns a vector whose lanes all hold the maximum of the lanes of
// v (which is clobbered). Which NaN wins does not matter to the callers.
func (a *ElemLevel) hmax(v VecVirtual) VecVirtual {
	y := a.low256(v, func(p, q, d Op) { VMAXPS(p, q, d) })
	x := a.extract128(y)
	VMAXPS(x, y.AsX(), x)
	t := XMM()
	VPERMILPS(U8(0x4e), x, t)
	VMAXPS(t, x, x)
	VPERMILPS(U8(0xb1), x, t)
	VMAXPS(t, x, x)
	out := a.v()
	VBROADCASTSS(x, out)
	return out
}

// hsum64 returns in the low lane of an XMM the sum of the float64 lanes
// of v (clobbered).
func (a *ElemLevel) hsum64(v VecVirtual) VecVirtual {
	y := a.low256(v, func(p, q, d Op) { VADDPD(p, q, d) })
	x := a.extract128(y)
	VADDPD(x, y.AsX(), x)
	t := XMM()
	VPERMILPD(U8(1), x, t)
	VADDSD(t, x, x)
	return x
}

// widen converts the float32 lanes of e to float64: lo holds the lower
// half, hi the upper.
func (a *ElemLevel) widen(e VecVirtual) (lo, hi VecVirtual) {
	lo, hi = a.v(), a.v()
	if a.is512 {
		VCVTPS2PD(e.AsY(), lo)
		h := YMM()
		VEXTRACTF32X8(U8(1), e, h)
		VCVTPS2PD(h, hi)
	} else {
		VCVTPS2PD(e.AsX(), lo)
		VCVTPS2PD(a.extract128(e), hi)
	}
	return lo, hi
}

// narrow rounds the float64 lanes of lo and hi to float32, the inverse
// of widen.
func (a *ElemLevel) narrow(lo, hi VecVirtual) VecVirtual {
	out := a.v()
	if a.is512 {
		l, h := YMM(), YMM()
		VCVTPD2PS(lo, l)
		VCVTPD2PS(hi, h)
		VINSERTF32X8(U8(1), h, l.AsZ(), out)
	} else {
		l, h := XMM(), XMM()
		VCVTPD2PSY(lo, l)
		VCVTPD2PSY(hi, h)
		VINSERTF128(U8(1), h, l.AsY(), out)
	}
	return out
}

// copyc returns a fresh register holding constant name, free to modify.
func (a *ElemLevel) copyc(name string) VecVirtual {
	r := a.v()
	VMOVUPS(a.c(name), r)
	return r
}

// bcast32 broadcasts the 32-bit general register r to every lane.
func (a *ElemLevel) bcast32(r Register) VecVirtual {
	x := XMM()
	VMOVD(r, x)
	v := a.v()
	VPBROADCASTD(x, v)
	return v
}

// recip64 returns a float64 vector whose lanes all hold 1/s (s in the
// low lane of an XMM).
func (a *ElemLevel) recip64(s VecVirtual) (scalar, vec VecVirtual) {
	one := XMM()
	VMOVSD(a.one64(), one)
	VDIVSD(s, one, one)
	vec = a.v()
	VBROADCASTSD(one, vec)
	return one, vec
}

func (a *ElemLevel) one64() Mem {
	if m, ok := a.consts["one64"]; ok {
		return m
	}
	m := GLOBL("one64", RODATA|NOPTR)
	DATA(0, F64(1))
	a.consts["one64"] = m
	return m
}

// softmax emits Softmax (dst, x) or, withBias, BiasSoftmax (x in place
// plus bias). Per row: the maximum, then the exponentials of x − max
// stored in dst and summed in float64, then dst scaled by the float64
// reciprocal of the sum, as softmaxRow does; only the order of the
// float64 sum differs from the reference (lanes, then across them).
func (a *ElemLevel) softmax(withBias bool) {
	s := a.Suffix
	if withBias {
		a.begin("BiasSoftmax", "func(x, bias []float32, rows, cols int)",
			"BiasSoftmax"+s+" adds bias[j] to column j of the rows×cols matrix x, then replaces each",
			"row by its softmax, in place: refBiasSoftmax in package kernels, with the results of",
			"Softmax"+s+" on the biased rows. rows, cols ≥ 1, len(x) ≥ rows·cols, len(bias) ≥ cols.",
			"Rows of up to "+fmt.Sprint(a.smallMax())+" columns are loaded once and stored once, kept in registers.")
	} else {
		a.begin("Softmax", "func(dst, x []float32, rows, cols int)",
			"Softmax"+s+" sets each row of the rows×cols matrix dst to the softmax of that row of x:",
			"refSoftmax in package kernels. The exponentials are exp32's bits; their float64 sum is",
			"added in another order, so results are within the documented 4 ulp rather than",
			"identical. rows, cols ≥ 1, len(dst), len(x) ≥ rows·cols; dst may be x. Rows of up to",
			fmt.Sprint(a.smallMax())+" columns are loaded once and stored once, kept in registers.")
	}
	var dst, x, bias GPVirtual
	var ptrs []GPVirtual
	if withBias {
		x = elemArg(Param("x").Base())
		bias = elemArg(Param("bias").Base())
		dst = x
		ptrs = []GPVirtual{x}
	} else {
		dst = elemArg(Param("dst").Base())
		x = elemArg(Param("x").Base())
		ptrs = []GPVirtual{dst, x}
	}
	rows := elemArg(Param("rows"))
	cols := elemArg(Param("cols"))
	a.preload(append([]string{"negInf"}, elemExpConsts...)...)
	load := func(c *elemChunk) VecVirtual {
		v := c.load(x)
		if withBias {
			VADDPS(c.load(bias), v, v)
		}
		return v
	}
	lEnd := a.label("end")
	a.smallRows(cols, lEnd, func(slots []*elemChunk) {
		// Software-pipelined: row i+1 is loaded before row i is stored,
		// so that no load follows a masked store whose range covers it
		// (in place, each row's store reaches into the next row).
		fill := a.cr("negInf")
		rd := GP64()
		MOVQ(x, rd)
		vs := make([]VecVirtual, len(slots))
		for i := range vs {
			vs[i] = a.v()
		}
		loadRow := func() {
			for i, c := range slots {
				v := c.loadFill(rd, fill)
				if withBias {
					VADDPS(c.load(bias), v, v) // −Inf + 0 in inactive lanes
				}
				VMOVUPS(v, vs[i])
			}
		}
		loadRow()
		lLoop, lLast := a.label("smallrow"), a.label("lastrow")
		Label(lLoop)
		acc := a.v()
		VMOVUPS(vs[0], acc)
		for _, v := range vs[1:] {
			VMAXPS(v, acc, acc)
		}
		m := a.hmax(acc)
		sum := a.v()
		VXORPS(sum, sum, sum)
		es := make([]VecVirtual, len(slots))
		for i, c := range slots {
			d := a.v()
			VSUBPS(m, vs[i], d)
			es[i] = a.exp(d)
			c.active(es[i])
			lo, hi := a.widen(es[i])
			VADDPD(lo, sum, sum)
			VADDPD(hi, sum, sum)
		}
		_, inv := a.recip64(a.hsum64(sum))
		for i := range es {
			lo, hi := a.widen(es[i])
			VMULPD(inv, lo, lo)
			VMULPD(inv, hi, hi)
			es[i] = a.narrow(lo, hi)
		}
		store := func() {
			for i, c := range slots {
				c.store(es[i], dst)
			}
		}
		DECQ(rows)
		JZ(LabelRef(lLast))
		LEAQ(Mem{Base: rd, Index: cols, Scale: 4}, rd)
		loadRow()
		store()
		LEAQ(Mem{Base: dst, Index: cols, Scale: 4}, dst)
		JMP(LabelRef(lLoop))
		Label(lLast)
		store()
	})
	a.rows(rows, cols, ptrs, func() {
		acc := a.copyc("negInf")
		fill := a.cr("negInf")
		a.loop(cols, func(c *elemChunk) {
			v := c.loadFill(x, fill)
			if withBias {
				VADDPS(c.load(bias), v, v) // −Inf + 0 in inactive lanes
			}
			VMAXPS(v, acc, acc)
		})
		m := a.hmax(acc)
		sum := a.v()
		VXORPS(sum, sum, sum)
		a.loop(cols, func(c *elemChunk) {
			v := load(c)
			VSUBPS(m, v, v)
			e := a.exp(v)
			c.store(e, dst)
			c.active(e)
			lo, hi := a.widen(e)
			VADDPD(lo, sum, sum)
			VADDPD(hi, sum, sum)
		})
		_, inv := a.recip64(a.hsum64(sum))
		a.loop(cols, func(c *elemChunk) {
			lo, hi := a.widen(c.load(dst))
			VMULPD(inv, lo, lo)
			VMULPD(inv, hi, hi)
			c.store(a.narrow(lo, hi), dst)
		})
	})
	Label(lEnd)
	End()
}

// softmaxGrad emits SoftmaxGrad: s = Σ dy·y summed in float64 in column
// order (scalar, as the reference does, so the bits match), then
// dx = (dy − s)·y in float32.
func (a *ElemLevel) softmaxGrad() {
	s := a.Suffix
	a.begin("SoftmaxGrad", "func(dx, dy, y []float32, rows, cols int)",
		"SoftmaxGrad"+s+" sets dx = (dy − s)·y per row of the rows×cols matrices, s being Σ dy·y",
		"accumulated in float64 in column order and rounded once: the bits of refSoftmaxGrad in",
		"package kernels. len(dx), len(dy), len(y) ≥ rows·cols; dx may be dy.")
	dx := elemArg(Param("dx").Base())
	dy := elemArg(Param("dy").Base())
	y := elemArg(Param("y").Base())
	rows := elemArg(Param("rows"))
	cols := elemArg(Param("cols"))
	a.rows(rows, cols, []GPVirtual{dx, dy, y}, func() {
		sum := XMM()
		VXORPS(sum, sum, sum)
		j := GP64()
		XORQ(j, j)
		lLoop, lEnd := a.label("dot"), a.label("dotdone")
		Label(lLoop)
		CMPQ(j, cols)
		JGE(LabelRef(lEnd))
		p, q := XMM(), XMM()
		VXORPS(p, p, p) // the conversions merge into these: no stale inputs
		VXORPS(q, q, q)
		VCVTSS2SD(Mem{Base: dy, Index: j, Scale: 4}, p, p)
		VCVTSS2SD(Mem{Base: y, Index: j, Scale: 4}, q, q)
		VMULSD(q, p, p)
		VADDSD(p, sum, sum)
		INCQ(j)
		JMP(LabelRef(lLoop))
		Label(lEnd)
		VCVTSD2SS(sum, sum, sum)
		sv := a.v()
		VBROADCASTSS(sum, sv)
		a.loop(cols, func(c *elemChunk) {
			d := c.load(dy)
			VSUBPS(sv, d, d)
			VMULPS(c.load(y), d, d)
			c.store(d, dx)
		})
	})
	End()
}

// crossEntropy emits the fused softmax cross-entropy of
// refSoftmaxCrossEntropy for up to CEStatsRows rows: per row the
// exponentials, their float64 sums other (all but the label's) and s,
// d = logit[y] − max in float64, probs and grad; then, in float64 lanes
// over all rows, each row's loss (ceLoss). The Go caller adds the losses
// in row order, as the reference does. probs and grad are written when
// their length is not zero; in the general path the exponentials are
// parked in whichever exists first, as the reference does.
func (a *ElemLevel) crossEntropy() {
	s := a.Suffix
	a.begin("SoftmaxCrossEntropy", "func(probs, grad, logits []float32, labels []int32, rows, cols int, invB float64, stats []float64)",
		"SoftmaxCrossEntropy"+s+" is refSoftmaxCrossEntropy in package kernels for at most 64 rows,",
		"except the final sum: it writes probs and grad (each skipped when its length is 0) and",
		"sets stats[i] to the loss of row i, log1p(other) when d = 0 and log(s) − d otherwise, with",
		"other = Σ exp(z−max) over the row but the label (float64), s = other + the label's",
		"exponential, d = z[label] − max (float64); stats[64+i] and stats[128+i] hold s and d.",
		"The logarithms are float64 series within a few float64 ulps (the reference calls",
		"math.Log and math.Log1p). The gradient is (probs − onehot)·invB, the label's computed",
		"as −other/s·invB for full relative precision. Preconditions: 1 ≤ rows ≤ 64, cols ≥ 1,",
		"every label in [0, cols), len(logits) ≥ rows·cols, probs and grad empty or ≥ rows·cols,",
		"len(labels) ≥ rows, len(stats) = 192.")
	probs := elemArg(Param("probs").Base())
	grad := elemArg(Param("grad").Base())
	// The lengths stay in the argument frame: registers are short here.
	pl, gl := elemArgAddr(Param("probs").Len()), elemArgAddr(Param("grad").Len())
	z := elemArg(Param("logits").Base())
	labels := elemArg(Param("labels").Base())
	rows := elemArg(Param("rows"))
	cols := elemArg(Param("cols"))
	invB := XMM()
	Load(Param("invB"), invB)
	stats := elemArg(Param("stats").Base())
	stats0, nrows := elemArgAddr(Param("stats").Base()), elemArgAddr(Param("rows"))
	buf := GP64()
	MOVQ(probs, buf)
	CMPQ(pl, Imm(0))
	CMOVQEQ(grad, buf)
	// noBuf jumps to target when neither probs nor grad is written.
	noBuf := func(target string) {
		lHas := a.label("hasbuf")
		CMPQ(pl, Imm(0))
		JNE(LabelRef(lHas))
		CMPQ(gl, Imm(0))
		JEQ(LabelRef(target))
		Label(lHas)
	}
	invBv := a.v()
	VBROADCASTSD(invB, invBv)
	negInvB := XMM()
	VXORPD(negInvB, negInvB, negInvB)
	VSUBSD(invB, negInvB, negInvB)
	a.preload(elemExpConsts...)

	lEnd := a.label("end")
	a.smallRows(cols, lEnd, func(slots []*elemChunk) {
		// Short rows stay in registers: one load per slot, the
		// exponentials kept for the outputs instead of parked in memory.
		fill := a.cr("negInf")
		a.rows(rows, cols, []GPVirtual{probs, grad, z}, func() {
			lNext := a.label("next")
			y := GP64()
			MOVLQSX(Mem{Base: labels}, y)
			vs := make([]VecVirtual, len(slots))
			acc := a.v()
			for i, c := range slots {
				vs[i] = c.loadFill(z, fill)
				if i == 0 {
					VMOVUPS(vs[0], acc)
				} else {
					VMAXPS(vs[i], acc, acc)
				}
			}
			m := a.hmax(acc)
			yv := a.bcast32(y.As32())
			oth, ey := a.v(), a.v()
			VXORPS(oth, oth, oth)
			VXORPS(ey, ey, ey)
			es := make([]VecVirtual, len(slots))
			for i, c := range slots {
				VSUBPS(m, vs[i], vs[i])
				es[i] = a.exp(vs[i])
				c.active(es[i])
				eo, et := a.v(), a.v()
				if i > 0 {
					VPSUBD(a.c("lanes"), yv, yv)
				}
				if a.is512 {
					k := K()
					VPCMPEQD(a.c("iota"), yv, k)
					VMOVAPS_Z(es[i], k, et)
					KNOTW(k, k)
					VMOVAPS_Z(es[i], k, eo)
				} else {
					eq := a.v()
					VPCMPEQD(a.c("iota"), yv, eq)
					VANDPS(eq, es[i], et)
					VANDNPS(es[i], eq, eo)
				}
				lo, hi := a.widen(eo)
				VADDPD(lo, oth, oth)
				VADDPD(hi, oth, oth)
				lo, hi = a.widen(et)
				VADDPD(lo, ey, ey)
				VADDPD(hi, ey, ey)
			}
			other, sum := a.ceStats(oth, ey, m, z, y, stats)
			noBuf(lNext)
			invv, gyv := a.ceScale(other, sum, negInvB)
			yv = a.bcast32(y.As32())
			for i, c := range slots {
				if i > 0 {
					VPSUBD(a.c("lanes"), yv, yv)
				}
				a.ceOut(c, es[i], yv, invv, invBv, gyv, probs, grad, pl, gl)
			}
			Label(lNext)
			ADDQ(U8(4), labels)
			ADDQ(U8(8), stats)
		})
	})

	a.rows(rows, cols, []GPVirtual{probs, grad, z, buf}, func() {
		lNext := a.label("next")
		y := GP64()
		MOVLQSX(Mem{Base: labels}, y)

		acc := a.copyc("negInf")
		fill := a.cr("negInf")
		a.loop(cols, func(c *elemChunk) {
			VMAXPS(c.loadFill(z, fill), acc, acc)
		})
		m := a.hmax(acc)

		yv := a.bcast32(y.As32())
		oth, ey := a.v(), a.v()
		VXORPS(oth, oth, oth)
		VXORPS(ey, ey, ey)
		a.loop(cols, func(c *elemChunk) {
			v := c.load(z)
			VSUBPS(m, v, v)
			e := a.exp(v)
			lSkip := a.label("nobuf")
			noBuf(lSkip)
			c.store(e, buf)
			Label(lSkip)
			c.active(e)
			et := a.v()
			if a.is512 {
				k := K()
				VPCMPEQD(a.c("iota"), yv, k)
				VMOVAPS_Z(e, k, et)
				KNOTW(k, k)
				VMOVAPS_Z(e, k, e)
			} else {
				eq := a.v()
				VPCMPEQD(a.c("iota"), yv, eq)
				VANDPS(eq, e, et)
				VANDNPS(e, eq, e)
			}
			lo, hi := a.widen(e)
			VADDPD(lo, oth, oth)
			VADDPD(hi, oth, oth)
			lo, hi = a.widen(et)
			VADDPD(lo, ey, ey)
			VADDPD(hi, ey, ey)
			VPSUBD(a.c("lanes"), yv, yv)
		})
		other, sum := a.ceStats(oth, ey, m, z, y, stats)
		noBuf(lNext)
		invv, gyv := a.ceScale(other, sum, negInvB)
		yv = a.bcast32(y.As32())
		a.loop(cols, func(c *elemChunk) {
			a.ceOut(c, c.load(buf), yv, invv, invBv, gyv, probs, grad, pl, gl)
			VPSUBD(a.c("lanes"), yv, yv)
		})

		Label(lNext)
		ADDQ(U8(4), labels)
		ADDQ(U8(8), stats)
	})
	Label(lEnd)
	a.ceLoss(stats0, nrows)
	End()
}

// ceStats finishes a cross-entropy row's sums: other and e_y from their
// float64 lane accumulators, s = other + e_y, d = z[y] − m in float64,
// written to stats[0:3]. It returns other and s (low lanes of XMMs).
func (a *ElemLevel) ceStats(oth, ey, m VecVirtual, z, y, stats GPVirtual) (other, sum VecVirtual) {
	other = a.hsum64(oth)
	sum = a.hsum64(ey)
	VADDSD(sum, other, sum)
	d, mm := XMM(), XMM()
	VXORPS(d, d, d)
	VXORPS(mm, mm, mm)
	VCVTSS2SD(Mem{Base: z, Index: y, Scale: 4}, d, d)
	VCVTSS2SD(m.AsX(), mm, mm)
	VSUBSD(mm, d, d)
	VMOVSD(other, Mem{Base: stats})
	VMOVSD(sum, Mem{Base: stats, Disp: 8 * CEStatsRows})
	VMOVSD(d, Mem{Base: stats, Disp: 16 * CEStatsRows})
	return other, sum
}

// CEStatsRows is the row capacity of the cross-entropy's stats array:
// the Go glue hands the assembly at most this many rows at a time, with a
// stack array of 3·CEStatsRows float64s.
const CEStatsRows = 64

// ceLoss emits the loss pass of the cross-entropy: for the rows whose
// (other, s, d) sit in the three thirds of the stats array at stats0, it
// sets stats[i] to the row's loss, log1p(other) when d = 0 and
// log(s) − d otherwise, as refSoftmaxCrossEntropy computes them (Go's
// math.Log and math.Log1p there). The logarithm is evaluated in float64
// lanes: s ≥ 1 is split as 2ᵏ·f with f in [√½, √2), and
// log f = 2·atanh(u), u = (f−1)/(f+1), |u| ≤ 0.1716, is summed to the
// u²¹ term, a truncation below 1e-17 relative. For d = 0 and k = 0 it
// takes u = other/(2+other) from other itself, so a tiny loss keeps its
// relative precision (s = 1 + other would have rounded it away). The
// error is a few float64 ulps: far inside the documented 2⁻²² relative.
// Whole vectors run up to the row count rounded up, which the array's
// capacity of CEStatsRows (a multiple of 8) always holds.
func (a *ElemLevel) ceLoss(stats0, nrows Mem) {
	st, n, i := GP64(), GP64(), GP64()
	MOVQ(stats0, st)
	MOVQ(nrows, n)
	XORQ(i, i)
	lLoop, lDone := a.label("lossloop"), a.label("lossdone")
	Label(lLoop)
	CMPQ(i, n)
	JGE(LabelRef(lDone))
	at := func(third int) Mem { return Mem{Base: st, Index: i, Scale: 8, Disp: 8 * CEStatsRows * third} }
	other, sum, d := a.v(), a.v(), a.v()
	VMOVUPD(at(0), other)
	VMOVUPD(at(1), sum)
	VMOVUPD(at(2), d)

	// s = 2^e·m with m in [1, 2): e from the exponent bits, m from the
	// mantissa with the exponent of 1.
	e := a.v()
	VPSRLQ(U8(52), sum, e)
	VPSUBQ(a.c64("i1023"), e, e)
	f := a.v()
	VANDPD(a.c64("mantMask"), sum, f)
	VORPD(a.c64("one"), f, f)
	half := a.v()
	VMULPD(a.c64("half"), f, half)
	zero := a.v()
	VXORPD(zero, zero, zero)
	k := a.v()
	if a.is512 {
		big := K()
		VCMPPD(U8(0x1d), a.c64("sqrt2"), f, big) // f ≥ √2: halve, e+1
		VMOVAPD(half, big, f)
		VPSUBQ(a.c64("minusOne"), e, big, e)
		VCVTQQ2PD(e, k)
		dz := K()
		VCMPPD(U8(0), zero, d, dz) // d = 0
		kz := K()
		VCMPPD(U8(0), zero, k, dz, kz) // and k = 0: u from other
		num, den := a.v(), a.v()
		VSUBPD(a.c64("one"), f, num)
		VADDPD(a.c64("one"), f, den)
		VMOVAPD(other, kz, num)
		VADDPD(a.c64("two"), other, kz, den)
		a.logTail(num, den, k, sum, d, dz, at(0))
	} else {
		big := a.v()
		VCMPPD(U8(0x1d), a.c64("sqrt2"), f, big)
		VBLENDVPD(big, half, f, f)
		VPSUBQ(big, e, e) // all-ones lanes are −1
		// e is small: adding 2⁵² as an integer to its bits makes the
		// double 2⁵² + e.
		VPADDQ(a.c64("two52"), e, k)
		VSUBPD(a.c64("two52"), k, k)
		dz := a.v()
		VCMPPD(U8(0), zero, d, dz)
		kz := a.v()
		VCMPPD(U8(0), zero, k, kz)
		VANDPD(dz, kz, kz)
		num, den := a.v(), a.v()
		VSUBPD(a.c64("one"), f, num)
		VADDPD(a.c64("one"), f, den)
		VBLENDVPD(kz, other, num, num)
		o2 := a.v()
		VADDPD(a.c64("two"), other, o2)
		VBLENDVPD(kz, o2, den, den)
		a.logTail(num, den, k, sum, d, dz, at(0))
	}
	ADDQ(Imm(uint64(a.Lanes/2)), i)
	JMP(LabelRef(lLoop))
	Label(lDone)
}

// logTail finishes ceLoss for one vector: L = k·ln2 + 2·atanh(num/den),
// NaN when s is, and the loss L (where the mask dz marks d = 0) or L − d,
// stored over other.
func (a *ElemLevel) logTail(num, den, k, sum, d VecVirtual, dz Op, out Mem) {
	u := a.v()
	VDIVPD(den, num, u)
	u2 := a.v()
	VMULPD(u, u, u2)
	p := a.v()
	VMOVUPD(a.c64("atanh10"), p)
	for j := 9; j >= 0; j-- {
		VFMADD213PD(a.c64(fmt.Sprintf("atanh%d", j)), u2, p) // p = p·u2 + 1/(2j+1)
	}
	VADDPD(u, u, u)
	VMULPD(u, p, p)
	VFMADD231PD(a.c64("ln2"), k, p) // + k·ln2
	nan := a.v()
	VMULPD(a.c64("zero"), sum, nan) // 0, or NaN when s is NaN
	VADDPD(nan, p, p)
	l := a.v()
	VSUBPD(d, p, l)
	if a.is512 {
		VMOVAPD(p, dz.(OpmaskVirtual), l)
	} else {
		VBLENDVPD(dz, p, l, l)
	}
	VMOVUPD(l, out)
}

// elemF64Bits are the float64 (and int64) constants of the loss pass.
var elemF64Bits = map[string]uint64{
	"i1023":    1023,
	"minusOne": math.MaxUint64,
	"mantMask": 1<<52 - 1,
	"one":      math.Float64bits(1),
	"two":      math.Float64bits(2),
	"half":     math.Float64bits(0.5),
	"zero":     0,
	"sqrt2":    math.Float64bits(math.Sqrt2),
	"two52":    math.Float64bits(1 << 52),
	"ln2":      math.Float64bits(math.Ln2),
}

// c64 returns the full-width vector of float64 constant name as a memory
// operand; atanhJ is 1/(2J+1), the series coefficients.
func (a *ElemLevel) c64(name string) Mem {
	key := "d_" + name
	if m, ok := a.consts[key]; ok {
		return m
	}
	bits, ok := elemF64Bits[name]
	if !ok {
		var j int
		if _, err := fmt.Sscanf(name, "atanh%d", &j); err != nil {
			panic("avx: unknown float64 constant " + name)
		}
		bits = math.Float64bits(1 / float64(2*j+1))
	}
	m := GLOBL(key, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(8*i, U64(bits))
	}
	a.consts[key] = m
	return m
}

// ceScale returns 1/s as a float64 vector and the label's gradient
// −other·(1/s)·invB, rounded to float32, in every lane.
func (a *ElemLevel) ceScale(other, sum, negInvB VecVirtual) (invv, gyv VecVirtual) {
	inv, invv := a.recip64(sum)
	gy := XMM()
	VMULSD(inv, other, gy)
	VMULSD(negInvB, gy, gy) // negation is exact, so this is −(other·inv·invB)
	VCVTSD2SS(gy, gy, gy)
	gyv = a.v()
	VBROADCASTSS(gy, gyv)
	return invv, gyv
}

// ceOut writes one chunk of a cross-entropy row's outputs from its
// exponentials e: probs = e/s and grad = probs·invB, except in the label's
// lane (where yv equals the lane index) which gets gyv.
func (a *ElemLevel) ceOut(c *elemChunk, e, yv, invv, invBv, gyv VecVirtual, probs, grad GPVirtual, pl, gl Mem) {
	lo, hi := a.widen(e)
	VMULPD(invv, lo, lo)
	VMULPD(invv, hi, hi)
	lNoP, lNoG := a.label("noprobs"), a.label("nograd")
	CMPQ(pl, Imm(0))
	JEQ(LabelRef(lNoP))
	c.store(a.narrow(lo, hi), probs)
	Label(lNoP)
	CMPQ(gl, Imm(0))
	JEQ(LabelRef(lNoG))
	VMULPD(invBv, lo, lo)
	VMULPD(invBv, hi, hi)
	g := a.narrow(lo, hi)
	if a.is512 {
		k := K()
		VPCMPEQD(a.c("iota"), yv, k)
		VMOVAPS(gyv, k, g)
	} else {
		eq := a.v()
		VPCMPEQD(a.c("iota"), yv, eq)
		VBLENDVPS(eq, gyv, g, g)
	}
	c.store(g, grad)
	Label(lNoG)
}

// argmax emits Argmax: per row, 0 if the first element is NaN; otherwise
// the maximum m of the non-NaN elements (MAXPS returns the accumulator
// when the new lane is NaN), then the first index whose element equals m,
// which is the first index the reference's running "greater than" scan
// settles on (−0 and +0 compare equal there and here).
func (a *ElemLevel) argmax() {
	s := a.Suffix
	a.begin("Argmax", "func(dst []int32, x []float32, rows, cols int)",
		"Argmax"+s+" sets dst[i] to the index of the first largest element of row i of the",
		"rows×cols matrix x, with the NaN rule of refArgmax in package kernels (a NaN first",
		"element gives 0, other NaNs are never chosen). cols ≥ 1, len(dst) ≥ rows,",
		"len(x) ≥ rows·cols.")
	dst := elemArg(Param("dst").Base())
	x := elemArg(Param("x").Base())
	rows := elemArg(Param("rows"))
	cols := elemArg(Param("cols"))
	a.rows(rows, cols, []GPVirtual{x}, func() {
		lStore := a.label("store")
		idx := GP64()
		XORQ(idx, idx)
		x0 := XMM()
		VMOVSS(Mem{Base: x}, x0)
		VUCOMISS(x0, x0)
		JPS(LabelRef(lStore))
		acc := a.v()
		VBROADCASTSS(x0, acc)
		fill := a.v()
		VBROADCASTSS(x0, fill)
		a.loop(cols, func(c *elemChunk) {
			VMAXPS(acc, c.loadFill(x, fill), acc)
		})
		m := a.hmax(acc)
		a.loop(cols, func(c *elemChunk) {
			v := c.load(x)
			bits := GP32()
			if a.is512 {
				k := K()
				if c.tail {
					VCMPPS(U8(0), m, v, c.k, k)
				} else {
					VCMPPS(U8(0), m, v, k)
				}
				KMOVW(k, bits)
			} else {
				VCMPPS(U8(0), m, v, v)
				if c.tail {
					VANDPS(c.ym, v, v)
				}
				VMOVMSKPS(v, bits)
			}
			lMiss := a.label("miss")
			TESTL(bits, bits)
			JZ(LabelRef(lMiss))
			BSFL(bits, bits)
			MOVL(bits, idx.As32())
			ADDQ(c.j, idx)
			JMP(LabelRef(lStore))
			Label(lMiss)
		})
		Label(lStore)
		MOVL(idx.As32(), Mem{Base: dst})
		ADDQ(U8(4), dst)
	})
	End()
}

// ld loads a pointer or integer argument into a new general register.
func elemArg(c gotypes.Component) GPVirtual {
	r := GP64()
	Load(c, r)
	return r
}

// elemArgAddr returns the frame address of an argument.
func elemArgAddr(c gotypes.Component) Mem {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
