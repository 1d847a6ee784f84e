// Command elem_neon generates the NEON elementwise kernels of package
// kernels: the activations and their gradients, and the bias-plus-
// activation row kernels (kernels/elem_arm64.go is the Go side). The
// exp-based ones compute kernels.exp32, sigmoid32 and tanh32 lane by lane
// with the reference's own operations in its order and no fused
// multiply-add, so they are bit-identical to the generic level.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"strings"

	"github.com/simdmlp/simdmlp/gen/neon"
)

// The constants of kernels/ref_exp.go, as float32.
const (
	expLog2e      = 1.44269504088896341
	expLn2Hi      = 0.693359375
	expLn2Lo      = -2.1219444005469058e-4
	expRoundMagic = 12582912
	expMinArg     = -88
	expMaxArg     = 89
	expC2         = 0.499999935
	expC3         = 0.166665207
	expC4         = 0.0416683874
	expC5         = 0.00836870982
	expC6         = 0.00138146132
	minNormal32   = 0x1p-126

	tanhSmall = 0.625
	tanhT3    = -0.333332819
	tanhT5    = 0.133314422
	tanhT7    = -0.0537397151
	tanhT9    = 0.0206390874
	tanhT11   = -0.00570498713
)

type V = neon.V

// Constant registers, V16 up; the kernels' data and temporaries use V0–V15.
const (
	kZero V = 16 + iota
	kOne
	kMax
	kMin
	kLog2e
	kMagic
	kLn2Hi
	kLn2Lo
	kC2
	kC3
	kC4
	kC5
	kC6
	kMinNormal
	k127 // int32 127
	kTwo
)

// Constants of tanh's polynomial, loaded only by the tanh kernels; they
// share registers with nothing the exp needs.
const (
	kSmall V = 8 + iota // V8…
	kT3
	kT5
	kT7
	kT9
	kT11
	kSign
)

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	g := &gen{f: &f}
	g.unary("ReluNEON", "refRelu", "ReLU: lanes below zero become +0, −0 and NaN are kept", g.relu, needs{})
	g.unary("SigmoidNEON", "refSigmoid", "the logistic function, bit-identical to sigmoid32", g.sigmoid, needs{exp: true})
	g.unary("TanhNEON", "refTanh", "tanh, bit-identical to tanh32", g.tanh, needs{exp: true, tanh: true})
	g.expShift()
	g.grad("ReluGradNEON", "refReluGrad", "dx = dy where y > 0, else 0", g.reluGrad)
	g.grad("SigmoidGradNEON", "refSigmoidGrad", "dx = (dy·y)·(1−y)", g.sigmoidGrad)
	g.grad("TanhGradNEON", "refTanhGrad", "dx = dy·(1−y²)", g.tanhGrad)
	g.bias("AddBiasNEON", "refAddBias", "x + bias", nil, needs{})
	g.bias("BiasReluNEON", "refBiasRelu", "relu(x + bias)", g.relu, needs{})
	g.bias("BiasSigmoidNEON", "refBiasSigmoid", "sigmoid(x + bias)", g.sigmoid, needs{exp: true})
	g.bias("BiasTanhNEON", "refBiasTanh", "tanh(x + bias)", g.tanh, needs{exp: true, tanh: true})
	g.subMul()
	g.argmax()

	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}

type gen struct {
	f *neon.File
}

// needs tells which constant groups an op reads.
type needs struct{ exp, tanh bool }

// op computes dst from src, lane by lane; it may clobber V1–V7 and V15
// and reads the constant registers.
type op func(dst, src V)

func (g *gen) w(w neon.Word) { g.f.W(w) }

// vconst loads a float32 constant into every lane of v.
func (g *gen) vconst(v V, x float32) {
	g.f.I("MOVW $0x%08x, R9", math.Float32bits(x))
	g.f.I("VDUP R9, V%d.S4", v)
}

// constants loads zero and one, then the exp constants and tanh's when
// the kernel needs them.
func (g *gen) constants(needExp, needTanh bool) {
	g.f.I("VEOR V%d.B16, V%d.B16, V%d.B16", kZero, kZero, kZero)
	g.vconst(kOne, 1)
	if needExp {
		g.vconst(kMax, expMaxArg)
		g.vconst(kMin, expMinArg)
		g.vconst(kLog2e, expLog2e)
		g.vconst(kMagic, expRoundMagic)
		g.vconst(kLn2Hi, expLn2Hi)
		g.vconst(kLn2Lo, expLn2Lo)
		g.vconst(kC2, expC2)
		g.vconst(kC3, expC3)
		g.vconst(kC4, expC4)
		g.vconst(kC5, expC5)
		g.vconst(kC6, expC6)
		g.vconst(kMinNormal, minNormal32)
		g.f.I("MOVW $127, R9")
		g.f.I("VDUP R9, V%d.S4", k127)
		g.vconst(kTwo, 2)
	}
	if needTanh {
		g.vconst(kSmall, tanhSmall)
		g.vconst(kT3, tanhT3)
		g.vconst(kT5, tanhT5)
		g.vconst(kT7, tanhT7)
		g.vconst(kT9, tanhT9)
		g.vconst(kT11, tanhT11)
		g.f.I("MOVW $0x80000000, R9")
		g.f.I("VDUP R9, V%d.S4", kSign)
	}
}

func doc(name, ref, what, pre string) []string {
	return []string{
		fmt.Sprintf("%s computes %s with NEON, as kernels.%s does.", name, what, ref),
		"Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): " + pre,
	}
}

// unary emits func(dst, x []float32) over len(x) elements, a multiple of
// 4; dst may be x.
func (g *gen) unary(name, ref, what string, o op, nd needs) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: "func(dst, x []float32)",
		Doc: doc(name, ref, what, "len(dst) ≥ len(x), len(x) a multiple of 4; dst is x or does not overlap it.")})
	g.constants(nd.exp, nd.tanh)
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("x_len"))
	f.I("LSR $2, R2")
	f.I("CBZ R2, %s", f.L("done"))
	f.Label("loop")
	f.I("VLD1.P 16(R1), [V0.S4]")
	o(0, 0)
	f.I("VST1.P [V0.S4], 16(R0)")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("loop"))
	f.Label("done")
	f.I("RET")
}

// expShift emits ExpShiftNEON(dst, x, m): dst[j] = exp32(x[j] − m), the
// exponentials of a softmax row.
func (g *gen) expShift() {
	f := g.f
	const name = "ExpShiftNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dst, x []float32, m float32)", Doc: []string{
		name + " sets dst[j] = exp32(x[j] − m) with NEON, bit-identical to",
		"kernels.exp32: the exponentials of a softmax row shifted by its",
		"maximum. Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): len(dst) ≥ len(x),",
		"len(x) a multiple of 4; dst is x or does not overlap it.",
	}})
	g.constants(true, false)
	f.I("FMOVS %s, F15", f.Arg("m"))
	f.I("VDUP V15.S[0], V15.S4")
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("x_len"))
	f.I("LSR $2, R2")
	f.I("CBZ R2, %s", f.L("done"))
	f.Label("loop")
	f.I("VLD1.P 16(R1), [V0.S4]")
	g.w(neon.FSUB(1, 0, 15))
	g.exp()
	f.I("VST1.P [V1.S4], 16(R0)")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("loop"))
	f.Label("done")
	f.I("RET")
}

// subMul emits SubMulNEON(dx, dy, y, s): dx[j] = (dy[j] − s)·y[j], the
// second pass of SoftmaxGrad over one row (the first, s = Σ dy·y in
// float64 in column order, is scalar and stays in Go).
func (g *gen) subMul() {
	f := g.f
	const name = "SubMulNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dx, dy, y []float32, s float32)", Doc: []string{
		name + " sets dx[j] = (dy[j] − s)·y[j] with NEON, two roundings as in",
		"kernels.refSoftmaxGrad. Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): len(dy), len(y) ≥ len(dx),",
		"len(dx) a multiple of 4; dx is dy or overlaps neither input.",
	}})
	f.I("FMOVS %s, F15", f.Arg("s"))
	f.I("VDUP V15.S[0], V15.S4")
	f.I("MOVD %s, R0", f.Arg("dx_base"))
	f.I("MOVD %s, R1", f.Arg("dy_base"))
	f.I("MOVD %s, R3", f.Arg("y_base"))
	f.I("MOVD %s, R2", f.Arg("dx_len"))
	f.I("LSR $2, R2")
	f.I("CBZ R2, %s", f.L("done"))
	f.Label("loop")
	f.I("VLD1.P 16(R1), [V0.S4]")
	f.I("VLD1.P 16(R3), [V1.S4]")
	g.w(neon.FSUB(0, 0, 15))
	g.w(neon.FMUL(0, 0, 1))
	f.I("VST1.P [V0.S4], 16(R0)")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("loop"))
	f.Label("done")
	f.I("RET")
}

// argmax emits ArgmaxNEON: per row, 0 when the first element is NaN;
// otherwise the maximum m of the row's other-than-NaN elements (lane
// maxima kept by "v > acc", which NaN fails, then FMAXV, then the scalar
// tail), and the first index whose element equals m: the index the
// reference's running "greater than" scan settles on (−0 and +0 compare
// equal in both).
func (g *gen) argmax() {
	f := g.f
	const name = "ArgmaxNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dst []int32, x []float32, rows, cols int)", Doc: []string{
		name + " sets dst[i] to the index of the first largest element of row i of the",
		"rows×cols matrix x with NEON, with the NaN rule of kernels.refArgmax (a NaN",
		"first element gives 0, other NaNs are never chosen). Assembly because Go has",
		"no vector compares.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): rows ≥ 1, cols ≥ 4,",
		"len(dst) ≥ rows, len(x) ≥ rows·cols.",
	}})
	// R0 dst, R1 the row, R2 rows left, R3 cols, R4 whole vectors, R5
	// tail columns, R6 the index, R7 a load pointer, R8 a count, R9–R11
	// the compare mask's halves.
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("rows"))
	f.I("MOVD %s, R3", f.Arg("cols"))
	f.I("LSR $2, R3, R4")
	f.I("AND $3, R3, R5")
	f.Label("row")
	f.I("MOVD ZR, R6")
	f.I("FMOVS (R1), F0")
	f.I("FCMPS F0, F0")
	f.I("BVS %s", f.L("store"))
	f.I("VDUP V0.S[0], V1.S4")
	f.I("MOVD R1, R7")
	f.I("MOVD R4, R8")
	f.Label("max")
	f.I("VLD1.P 16(R7), [V2.S4]")
	g.w(neon.FCMGT(3, 2, 1))
	f.I("VBIT V3.B16, V2.B16, V1.B16")
	f.I("SUBS $1, R8")
	f.I("BNE %s", f.L("max"))
	// No lane of V1 is NaN: x[0] is not, and "v > acc" never takes one.
	g.w(neon.FMAXV(1, 1))
	f.I("CBZ R5, %s", f.L("maxdone"))
	f.I("MOVD R5, R8")
	f.Label("maxtail")
	f.I("FMOVS.P 4(R7), F2")
	f.I("FCMPS F1, F2")
	f.I("FCSELS GT, F2, F1, F1")
	f.I("SUBS $1, R8")
	f.I("BNE %s", f.L("maxtail"))
	f.Label("maxdone")
	f.I("VDUP V1.S[0], V1.S4")
	f.I("MOVD R1, R7")
	f.I("MOVD R4, R8")
	f.Label("find")
	f.I("VLD1.P 16(R7), [V2.S4]")
	g.w(neon.FCMEQ(3, 2, 1))
	f.I("VMOV V3.D[0], R9")
	f.I("VMOV V3.D[1], R10")
	f.I("ORR R9, R10, R11")
	f.I("CBNZ R11, %s", f.L("hit"))
	f.I("ADD $4, R6")
	f.I("SUBS $1, R8")
	f.I("BNE %s", f.L("find"))
	// Not in the whole vectors, so in the tail: m is one of the elements.
	f.Label("findtail")
	f.I("FMOVS.P 4(R7), F2")
	f.I("FCMPS F1, F2")
	f.I("BEQ %s", f.L("store"))
	f.I("ADD $1, R6")
	f.I("B %s", f.L("findtail"))
	// The first set lane is the mask's trailing zero bits over 32.
	f.Label("hit")
	f.I("CBZ R9, %s", f.L("high"))
	f.I("RBIT R9, R9")
	f.I("CLZ R9, R9")
	f.I("ADD R9>>5, R6")
	f.I("B %s", f.L("store"))
	f.Label("high")
	f.I("RBIT R10, R10")
	f.I("CLZ R10, R10")
	f.I("ADD R10>>5, R6")
	f.I("ADD $2, R6")
	f.Label("store")
	f.I("MOVW.P R6, 4(R0)")
	f.I("ADD R3<<2, R1")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("row"))
	f.I("RET")
}

// gradOp computes dx (V0) from dy (V0) and y (V1); it may clobber V2–V7.
type gradOp func()

// grad emits func(dx, dy, y []float32) over len(dx) elements.
func (g *gen) grad(name, ref, what string, o gradOp) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: "func(dx, dy, y []float32)",
		Doc: doc(name, ref, what, "len(dy), len(y) ≥ len(dx), len(dx) a multiple of 4; dx is dy or overlaps neither input.")})
	g.constants(false, false)
	f.I("MOVD %s, R0", f.Arg("dx_base"))
	f.I("MOVD %s, R1", f.Arg("dy_base"))
	f.I("MOVD %s, R3", f.Arg("y_base"))
	f.I("MOVD %s, R2", f.Arg("dx_len"))
	f.I("LSR $2, R2")
	f.I("CBZ R2, %s", f.L("done"))
	f.Label("loop")
	f.I("VLD1.P 16(R1), [V0.S4]")
	f.I("VLD1.P 16(R3), [V1.S4]")
	o()
	f.I("VST1.P [V0.S4], 16(R0)")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("loop"))
	f.Label("done")
	f.I("RET")
}

// bias emits func(x, bias []float32, rows, cols int): for each of rows
// rows of x, cols apart, the first len(bias) elements (a multiple of 4)
// become o(x + bias) (x + bias when o is nil).
func (g *gen) bias(name, ref, what string, o op, nd needs) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: "func(x, bias []float32, rows, cols int)",
		Doc: doc(name, ref, what+" on the first len(bias) columns of each row",
			"rows ≥ 1, len(bias) a positive multiple of 4 and ≤ cols, len(x) ≥ (rows−1)·cols + len(bias).")})
	g.constants(nd.exp, nd.tanh)
	f.I("MOVD %s, R0", f.Arg("x_base"))
	f.I("MOVD %s, R4", f.Arg("bias_len"))
	f.I("LSR $2, R4")
	f.I("MOVD %s, R5", f.Arg("rows"))
	f.I("MOVD %s, R6", f.Arg("cols"))
	f.I("LSL $2, R6")
	f.Label("row")
	f.I("MOVD R0, R1")
	f.I("MOVD %s, R3", f.Arg("bias_base"))
	f.I("MOVD R4, R2")
	f.Label("loop")
	f.I("VLD1 (R1), [V0.S4]")
	f.I("VLD1.P 16(R3), [V1.S4]")
	g.w(neon.FADD(0, 0, 1))
	if o != nil {
		o(0, 0)
	}
	f.I("VST1.P [V0.S4], 16(R1)")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("loop"))
	f.I("ADD R6, R0")
	f.I("SUBS $1, R5")
	f.I("BNE %s", f.L("row"))
	f.I("RET")
}

// relu: lanes with 0 > x become +0; −0 fails the test and NaN too, so
// both are kept, as relu32 keeps them.
func (g *gen) relu(dst, src V) {
	g.w(neon.FCMGT(7, kZero, src))
	if dst != src {
		g.f.I("VMOV V%d.B16, V%d.B16", src, dst)
	}
	g.f.I("VBIT V7.B16, V%d.B16, V%d.B16", kZero, dst)
}

func (g *gen) reluGrad() {
	// y > 0 fails for NaN, which gives 0 as in the reference.
	g.w(neon.FCMGT(2, 1, kZero))
	g.f.I("VAND V2.B16, V0.B16, V0.B16")
}

func (g *gen) sigmoidGrad() {
	g.w(neon.FMUL(0, 0, 1))
	g.w(neon.FSUB(2, kOne, 1))
	g.w(neon.FMUL(0, 0, 2))
}

func (g *gen) tanhGrad() {
	g.w(neon.FMUL(2, 1, 1))
	g.w(neon.FSUB(2, kOne, 2))
	g.w(neon.FMUL(0, 0, 2))
}

// exp emits y = exp32(x) for x in V1 into V1, clobbering V2–V6, with
// exp32's operations in its order (kernels/ref_exp.go).
func (g *gen) exp() {
	x, t, n, k, r, u := V(1), V(2), V(3), V(4), V(5), V(6)
	g.w(neon.FMIN(x, x, kMax))
	g.w(neon.FMAX(x, x, kMin))
	g.w(neon.FMUL(t, x, kLog2e))
	g.w(neon.FADD(t, t, kMagic))
	g.w(neon.FSUB(n, t, kMagic))
	g.f.I("VSUB V%d.S4, V%d.S4, V%d.S4", kMagic, t, k) // k = bits(t) − bits(magic)
	g.w(neon.FMUL(u, n, kLn2Hi))
	g.w(neon.FSUB(r, x, u))
	g.w(neon.FMUL(u, n, kLn2Lo))
	g.w(neon.FSUB(r, r, u))
	q := n
	g.w(neon.FMUL(q, kC6, r))
	g.w(neon.FADD(q, q, kC5))
	g.w(neon.FMUL(q, q, r))
	g.w(neon.FADD(q, q, kC4))
	g.w(neon.FMUL(q, q, r))
	g.w(neon.FADD(q, q, kC3))
	g.w(neon.FMUL(q, q, r))
	g.w(neon.FADD(q, q, kC2))
	p := t
	g.w(neon.FMUL(p, r, r))
	g.w(neon.FMUL(p, p, q))
	g.w(neon.FADD(p, p, r))
	g.w(neon.FADD(p, p, kOne))
	// 2ⁿ as 2^(k>>1)·2^(k−k>>1), from exponent bits.
	k1, k2 := u, r
	g.w(neon.SSHR(k1, k, 1))
	g.f.I("VSUB V%d.S4, V%d.S4, V%d.S4", k1, k, k2)
	g.f.I("VADD V%d.S4, V%d.S4, V%d.S4", k127, k1, k1)
	g.f.I("VSHL $23, V%d.S4, V%d.S4", k1, k1)
	g.f.I("VADD V%d.S4, V%d.S4, V%d.S4", k127, k2, k2)
	g.f.I("VSHL $23, V%d.S4, V%d.S4", k2, k2)
	g.w(neon.FMUL(x, p, k1))
	g.w(neon.FMUL(x, x, k2))
	// Below the smallest normal (NaN is not) becomes 0.
	g.w(neon.FCMGT(k, kMinNormal, x))
	g.f.I("VBIT V%d.B16, V%d.B16, V%d.B16", k, kZero, x)
}

// sigmoid follows sigmoid32: e = exp(−|x|), then (x < 0 ? e : 1)/(1+e)
// with the numerator chosen by the sign bit.
func (g *gen) sigmoid(dst, src V) {
	g.w(neon.FABS(1, src))
	g.w(neon.FNEG(1, 1))
	g.exp()
	g.w(neon.SSHR(7, src, 31))
	g.w(neon.FADD(2, kOne, 1))
	g.f.I("VBSL V%d.B16, V1.B16, V7.B16", kOne) // V7 = sign ? e : 1
	g.w(neon.FDIV(dst, 7, 2))
}

// tanh follows tanh32: the polynomial below tanhSmall, 1 − 2/(e^{2|x|}+1)
// from there on, both on |x|, then x's sign copied in. V0 is kept until
// the end for its sign.
func (g *gen) tanh(dst, src V) {
	a, a2, pp, ts := V(7), V(2), V(3), V(15)
	// V15 is free: the tanh constants end at V14.
	g.w(neon.FABS(a, src))
	g.w(neon.FMUL(a2, a, a))
	g.w(neon.FMUL(pp, kT11, a2))
	g.w(neon.FADD(pp, pp, kT9))
	g.w(neon.FMUL(pp, pp, a2))
	g.w(neon.FADD(pp, pp, kT7))
	g.w(neon.FMUL(pp, pp, a2))
	g.w(neon.FADD(pp, pp, kT5))
	g.w(neon.FMUL(pp, pp, a2))
	g.w(neon.FADD(pp, pp, kT3))
	g.w(neon.FMUL(ts, a, a2))
	g.w(neon.FMUL(ts, ts, pp))
	g.w(neon.FADD(ts, a, ts))
	g.w(neon.FADD(1, a, a))
	g.exp()
	g.w(neon.FADD(1, 1, kOne))
	g.w(neon.FDIV(1, kTwo, 1))
	g.w(neon.FSUB(1, kOne, 1))
	g.w(neon.FCMGT(a, kSmall, a)) // |x| < tanhSmall
	g.f.I("VBSL V1.B16, V%d.B16, V%d.B16", ts, a)
	g.f.I("VAND V%d.B16, V%d.B16, V1.B16", kSign, src)
	g.f.I("VORR V1.B16, V%d.B16, V%d.B16", a, dst)
}
