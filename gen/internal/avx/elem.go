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

// The elem*.go files emit the elementwise, row and loss kernels of package
// kernels for one vector level (AVX2+FMA or AVX-512): this one the level,
// its constants and the elementwise and bias kernels; elem_loop.go the
// loops and tails, elem_exp.go the exponential and the activations on it,
// elem_rows.go the row kernels (softmax and its gradient), elem_ce.go the
// cross-entropy, elem_argmax.go Argmax, elem_dropout.go Dropout. Both
// levels share every formula: only loads, tails, lane selection and the 2ⁿ
// scaling differ, and those are ElemLevel methods.
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

// GenerateElem emits every elementwise, row and loss kernel for level a,
// and Dropout.
func GenerateElem(a *ElemLevel) {
	a.unaryKernels()
	a.gradKernels()
	a.biasKernels()
	a.softmax(false)
	a.softmax(true)
	a.softmaxGrad()
	a.crossEntropy()
	a.argmax()
	a.dropout()
}

// why is the doc line that says why a kernel is assembly.
func (a *ElemLevel) why() string {
	return fmt.Sprintf("Assembly because Go has no vector instructions: %d lanes per instruction, the tail under a mask.", a.Lanes)
}

// sigmoidConsts and tanhConsts are the constants the sigmoid and tanh
// bodies read, which their kernels preload.
func sigmoidConsts() []string { return append([]string{"signBit"}, elemExpConsts...) }

func tanhConsts() []string {
	return append([]string{"absMask", "signBit", "t3", "t5", "t7", "t9", "t11", "tanhSmall", "two"}, elemExpConsts...)
}

// unaryKernels emits Relu, Sigmoid, Tanh and the test-only Exp:
// func(dst, x []float32).
func (a *ElemLevel) unaryKernels() {
	s, why := a.Suffix, a.why()
	acts := []struct {
		name, formula, ref, bound string
		pre                       []string
		f                         func(VecVirtual) VecVirtual
	}{
		{"Relu", "max(x[i], 0)", "refRelu", "exactly, keeping NaN and −0", nil, a.relu},
		{"Sigmoid", "1/(1+exp(−x[i]))", "refSigmoid (sigmoid32)", "bit-identical to sigmoid32 lane by lane, hence within 2 ulp", sigmoidConsts(), a.sigmoid},
		{"Tanh", "tanh(x[i])", "refTanh (tanh32)", "bit-identical to tanh32 lane by lane, hence within 1 ulp", tanhConsts(), a.tanh},
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
}

// gradKernels emits ReluGrad, SigmoidGrad and TanhGrad: func(dx, dy, y
// []float32).
func (a *ElemLevel) gradKernels() {
	s, why := a.Suffix, a.why()
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
}

// biasKernels emits AddBias and the fused bias-plus-activation kernels.
func (a *ElemLevel) biasKernels() {
	s := a.Suffix
	biasActs := []struct {
		name, ref, what string
		pre             []string
		f               func(VecVirtual) VecVirtual
	}{
		{"AddBias", "refAddBias", "", nil, func(v VecVirtual) VecVirtual { return v }},
		{"BiasRelu", "refBiasRelu", " and applies ReLU", nil, a.relu},
		{"BiasSigmoid", "refBiasSigmoid", " and applies the sigmoid of Sigmoid" + s, sigmoidConsts(), a.sigmoid},
		{"BiasTanh", "refBiasTanh", " and applies the tanh of Tanh" + s, tanhConsts(), a.tanh},
	}
	for _, b := range biasActs {
		a.biasKernel(b.name, b.ref, b.what, b.pre, b.f)
	}
}

// biasKernel emits one func(x, bias []float32, rows, cols int) that adds
// the bias and applies f: a row loop for rows of at least one vector,
// masked single vectors for shorter rows.
func (a *ElemLevel) biasKernel(name, ref, what string, pre []string, f func(VecVirtual) VecVirtual) {
	a.begin(name, "func(x, bias []float32, rows, cols int)",
		fmt.Sprintf("%s%s adds bias[j] to column j of the rows×cols matrix x in place%s, in one", name, a.Suffix, what),
		"pass, with the bits of "+ref+" in package kernels. len(x) ≥ rows·cols, len(bias) ≥ cols.",
		a.why())
	x := elemArg(Param("x").Base())
	bias := elemArg(Param("bias").Base())
	rows := elemArg(Param("rows"))
	cols := elemArg(Param("cols"))
	a.preload(pre...)
	lMasked, lEnd := a.label("masked"), a.label("end")
	CMPQ(cols, Imm(uint64(a.Lanes)))
	JLT(LabelRef(lMasked))
	a.biasWide(x, bias, rows, cols, f)
	JMP(LabelRef(lEnd))
	Label(lMasked)
	a.biasNarrow(x, bias, rows, cols, lEnd, f)
	Label(lEnd)
	End()
}

// biasWide emits the row loop of a bias kernel for cols ≥ Lanes. Each row
// ends with a whole vector that overlaps the one before it instead of a
// masked tail: a masked store's range would reach into the next row, and
// the next row's first load would then wait for that store to reach the
// cache (bench/README.md, "Narrow rows in the AVX row kernels", has the cost).
// The overlapping vector is loaded and computed before the row's other
// stores, so it writes the same bits they do.
func (a *ElemLevel) biasWide(x, bias, rows, cols GPVirtual, f func(VecVirtual) VecVirtual) {
	tj := GP64()
	MOVQ(cols, tj)
	SUBQ(Imm(uint64(a.Lanes)), tj)
	a.rows(rows, cols, []GPVirtual{x}, func() {
		lc := &elemChunk{a: a, j: tj}
		t := lc.load(x)
		VADDPS(lc.load(bias), t, t)
		t = f(t)
		a.loopTail(cols, func(c *elemChunk) {
			v := c.load(x)
			VADDPS(c.load(bias), v, v)
			c.store(f(v), x)
		}, false)
		lc.store(t, x)
	})
}

// biasNarrow emits the rows shorter than a vector: one masked vector per
// row, software-pipelined so that row i+1 is loaded before row i is
// stored (the masked store reaches into row i+1). The bias vector is the
// same for every row.
func (a *ElemLevel) biasNarrow(x, bias, rows, cols GPVirtual, lEnd string, f func(VecVirtual) VecVirtual) {
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
		out = f(out)
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
