// Command elem_neon generates the NEON elementwise kernels of package
// kernels: the activations and their gradients, the bias-plus-activation
// row kernels, the vector passes of softmax, its gradient and the
// cross-entropy, and Dropout (kernels/elem_arm64.go is the Go side). Every
// kernel handles any length itself (gen/internal/neon's Loop runs the
// vector body on the last len%4 elements too, loaded lane by lane). The
// exp-based ones compute kernels.exp32, sigmoid32 and tanh32 lane by lane
// with the reference's own operations in its order and no fused
// multiply-add, so they are bit-identical to the generic level; Dropout's
// integer hash and single multiply are exact, so it is too.
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	nl "github.com/simdmlp/simdmlp/gen/internal/neon"
	"github.com/simdmlp/simdmlp/gen/neon"
)

type V = neon.V

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	g := &gen{f: &f}
	g.unary("ReluNEON", "refRelu", "ReLU: lanes below zero become +0, −0 and NaN are kept", nl.Relu, needs{})
	g.unary("SigmoidNEON", "refSigmoid", "the logistic function, bit-identical to sigmoid32", nl.Sigmoid, needs{exp: true})
	g.unary("TanhNEON", "refTanh", "tanh, bit-identical to tanh32", nl.Tanh, needs{exp: true, tanh: true})
	g.expShift()
	g.normalize()
	g.grad("ReluGradNEON", "refReluGrad", "dx = dy where y > 0, else 0", g.reluGrad)
	g.grad("SigmoidGradNEON", "refSigmoidGrad", "dx = (dy·y)·(1−y)", g.sigmoidGrad)
	g.grad("TanhGradNEON", "refTanhGrad", "dx = dy·(1−y²)", g.tanhGrad)
	g.bias("AddBiasNEON", "refAddBias", "x + bias", nil, needs{})
	g.bias("BiasReluNEON", "refBiasRelu", "relu(x + bias)", nl.Relu, needs{})
	g.bias("BiasSigmoidNEON", "refBiasSigmoid", "sigmoid(x + bias)", nl.Sigmoid, needs{exp: true})
	g.bias("BiasTanhNEON", "refBiasTanh", "tanh(x + bias)", nl.Tanh, needs{exp: true, tanh: true})
	g.subMul()
	g.argmax()
	g.dropout()

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

func (g *gen) w(w neon.Word) { g.f.W(w) }

// unary emits func(dst, x []float32) over len(x) elements; dst may be x.
func (g *gen) unary(name, ref, what string, o nl.Op, nd needs) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: "func(dst, x []float32)",
		Doc: nl.Doc(name, ref, what, "len(dst) ≥ len(x); dst is x or does not overlap it.")})
	nl.Constants(f, nd.exp, nd.tanh)
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("x_len"))
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 1, Reg: 0, Load: true}, {Ptr: 0, Reg: 0, Store: true}},
		func() { o(f, 0, 0) })
	f.I("RET")
}

// expShift emits ExpShiftNEON(dst, x, m, skip): dst[j] = exp32(x[j] − m),
// the exponentials of a softmax row, and their float64 sum in index order
// leaving out index skip (the label's, for the cross-entropy; −1 for none).
// The sum is scalar: the reference adds in index order, and a vector of
// partial sums would round differently.
func (g *gen) expShift() {
	f := g.f
	const name = "ExpShiftNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dst, x []float32, m float32, skip int) (sum float64)", Doc: []string{
		name + " sets dst[j] = exp32(x[j] − m) with NEON, bit-identical to",
		"kernels.exp32 for every length (the last len%4 elements loaded and stored",
		"lane by lane), and returns Σ float64(dst[j]) over j ≠ skip, added in",
		"index order from +0 as kernels.refSoftmax and refSoftmaxCrossEntropy add",
		"them. Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): len(dst) ≥ len(x); dst is",
		"x or does not overlap it.",
	}})
	nl.Constants(f, true, false)
	nl.Arg32(f, 15, "m")
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("x_len"))
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 1, Reg: 0, Load: true}, {Ptr: 0, Reg: 1, Store: true}}, func() {
		g.w(neon.FSUB(1, 0, 15))
		nl.Exp(f)
	})
	// R0 the next exponential, R2 how many are left, R3 skip, R4 the
	// index; F20 the sum.
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R2", f.Arg("x_len"))
	f.I("MOVD %s, R3", f.Arg("skip"))
	f.I("MOVD ZR, R4")
	nl.Zero(f, 20)
	f.I("CBZ R2, %s", f.L("sumdone"))
	f.Label("sum")
	f.I("FMOVS.P 4(R0), F21")
	f.I("CMP R3, R4")
	f.I("BEQ %s", f.L("next"))
	f.I("FCVTSD F21, F21")
	f.I("FADDD F21, F20, F20")
	f.Label("next")
	f.I("ADD $1, R4")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("sum"))
	f.Label("sumdone")
	f.I("FMOVD F20, %s", f.Arg("sum"))
	f.I("RET")
}

// normalize emits NormalizeNEON(dst, e, inv, k): dst[j] =
// float32((float64(e[j])·inv)·k), the scaling passes of softmax (k = 1,
// which is exact) and of the cross-entropy's probabilities and gradient
// (k = 1/rows).
func (g *gen) normalize() {
	f := g.f
	const name = "NormalizeNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dst, e []float32, inv, k float64)", Doc: []string{
		name + " sets dst[j] = float32((float64(e[j])·inv)·k) with NEON, in float64",
		"as kernels.refSoftmax and refSoftmaxCrossEntropy scale their exponentials,",
		"for every length (the last len%4 elements loaded and stored lane by lane).",
		"Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): len(dst) ≥ len(e); dst is",
		"e or does not overlap it.",
	}})
	nl.Arg64(f, 16, "inv")
	nl.Arg64(f, 17, "k")
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("e_base"))
	f.I("MOVD %s, R2", f.Arg("e_len"))
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 1, Reg: 0, Load: true}, {Ptr: 0, Reg: 1, Store: true}}, func() {
		g.w(neon.FCVTL(2, 0))
		g.w(neon.FCVTL2(3, 0))
		g.w(neon.FMUL2D(2, 2, 16))
		g.w(neon.FMUL2D(3, 3, 16))
		g.w(neon.FMUL2D(2, 2, 17))
		g.w(neon.FMUL2D(3, 3, 17))
		g.w(neon.FCVTN(1, 2))
		g.w(neon.FCVTN2(1, 3))
	})
	f.I("RET")
}

// subMul emits SubMulNEON(dx, dy, y, s): dx[j] = (dy[j] − s)·y[j], the
// second pass of SoftmaxGrad over one row (the first, s = Σ dy·y in
// float64 in column order, is the reference's own function).
func (g *gen) subMul() {
	f := g.f
	const name = "SubMulNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dx, dy, y []float32, s float32)", Doc: []string{
		name + " sets dx[j] = (dy[j] − s)·y[j] with NEON, two roundings as in",
		"kernels.refSoftmaxGrad, for every length (the last len%4 elements loaded",
		"and stored lane by lane). Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels/elem_arm64.go): len(dy), len(y) ≥ len(dx);",
		"dx is dy or overlaps neither input.",
	}})
	nl.Arg32(f, 15, "s")
	f.I("MOVD %s, R0", f.Arg("dx_base"))
	f.I("MOVD %s, R1", f.Arg("dy_base"))
	f.I("MOVD %s, R3", f.Arg("y_base"))
	f.I("MOVD %s, R2", f.Arg("dx_len"))
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 1, Reg: 0, Load: true}, {Ptr: 3, Reg: 1, Load: true}, {Ptr: 0, Reg: 0, Store: true}}, func() {
		g.w(neon.FSUB(0, 0, 15))
		g.w(neon.FMUL(0, 0, 1))
	})
	f.I("RET")
}

// gradOp computes dx (V0) from dy (V0) and y (V1); it may clobber V2–V7.
type gradOp func()

// grad emits func(dx, dy, y []float32) over len(dx) elements.
func (g *gen) grad(name, ref, what string, o gradOp) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: "func(dx, dy, y []float32)",
		Doc: nl.Doc(name, ref, what, "len(dy), len(y) ≥ len(dx); dx is dy or overlaps neither input.")})
	nl.Constants(f, false, false)
	f.I("MOVD %s, R0", f.Arg("dx_base"))
	f.I("MOVD %s, R1", f.Arg("dy_base"))
	f.I("MOVD %s, R3", f.Arg("y_base"))
	f.I("MOVD %s, R2", f.Arg("dx_len"))
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 1, Reg: 0, Load: true}, {Ptr: 3, Reg: 1, Load: true}, {Ptr: 0, Reg: 0, Store: true}}, o)
	f.I("RET")
}

// bias emits func(x, bias []float32, rows, cols int): each row of the
// rows×len(bias) matrix x becomes o(x + bias) (x + bias when o is nil).
// The rows are contiguous, so x's pointer runs on from one row into the
// next and only the bias pointer starts again.
func (g *gen) bias(name, ref, what string, o nl.Op, nd needs) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: "func(x, bias []float32, rows, cols int)",
		Doc: nl.Doc(name, ref, what+" on each row",
			"rows ≥ 1, len(bias) = cols ≥ 1, len(x) ≥ rows·cols.")})
	nl.Constants(f, nd.exp, nd.tanh)
	f.I("MOVD %s, R0", f.Arg("x_base"))
	f.I("MOVD %s, R5", f.Arg("rows"))
	f.Label("row")
	f.I("MOVD %s, R3", f.Arg("bias_base"))
	f.I("MOVD %s, R2", f.Arg("cols"))
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 0, Reg: 0, Load: true, Store: true}, {Ptr: 3, Reg: 1, Load: true}}, func() {
		g.w(neon.FADD(0, 0, 1))
		if o != nil {
			o(f, 0, 0)
		}
	})
	f.I("SUBS $1, R5")
	f.I("BNE %s", f.L("row"))
	f.I("RET")
}

func (g *gen) reluGrad() {
	// y > 0 fails for NaN, which gives 0 as in the reference.
	g.w(neon.FCMGT(2, 1, nl.KZero))
	g.f.I("VAND V2.B16, V0.B16, V0.B16")
}

func (g *gen) sigmoidGrad() {
	g.w(neon.FMUL(0, 0, 1))
	g.w(neon.FSUB(2, nl.KOne, 1))
	g.w(neon.FMUL(0, 0, 2))
}

func (g *gen) tanhGrad() {
	g.w(neon.FMUL(2, 1, 1))
	g.w(neon.FSUB(2, nl.KOne, 2))
	g.w(neon.FMUL(0, 0, 2))
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
		"Preconditions (checked by kernels/elem_arm64.go): rows ≥ 1, cols ≥ 1,",
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
	// A row narrower than a vector is all tail: V1 keeps x[0].
	f.I("CBZ R4, %s", f.L("maxlanes"))
	f.I("MOVD R4, R8")
	f.Label("max")
	f.I("VLD1.P 16(R7), [V2.S4]")
	g.w(neon.FCMGT(3, 2, 1))
	f.I("VBIT V3.B16, V2.B16, V1.B16")
	f.I("SUBS $1, R8")
	f.I("BNE %s", f.L("max"))
	// No lane of V1 is NaN: x[0] is not, and "v > acc" never takes one.
	f.Label("maxlanes")
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
	f.I("CBZ R4, %s", f.L("findtail"))
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

// The multipliers of the Dropout hash's mixing function (dropoutMix in
// kernels/dropout.go); the level tests compare with the reference bit for
// bit, which a wrong one fails.
const (
	dropoutM1 = 0x7feb352d
	dropoutM2 = 0x846ca68b
)

// dropout emits DropoutNEON: dst[i] = x[i]·scale where the hash of
// counter+i keeps unit i, else +0 (kernels.refDropout). V22 holds the four
// lanes' counters and moves on by four per vector, so the tail's lanes
// hold the counters of the elements Loop loads into them.
func (g *gen) dropout() {
	f := g.f
	const name = "DropoutNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dst, x []float32, key0, key1, counter, threshold uint32, scale float32)", Doc: []string{
		name + " sets dst[i] = x[i]·scale where h(counter+i)>>8 ≥ threshold, else +0,",
		"with NEON, for i < len(x): h(c) = mix(mix(c^key0)^key1) is the hash of",
		"kernels.DropoutParams, so the bits are those of kernels.refDropout for every",
		"length (the last len%4 elements loaded and stored lane by lane). Assembly",
		"because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by kernels.Dropout): threshold ≤ 2²⁴; len(dst) ≥ len(x);",
		"dst is x or does not overlap it.",
	}})
	const (
		in, out, h, t       V = 0, 1, 2, 3
		k0, k1, m1, m2, thr V = 16, 17, 18, 19, 20
		sc, ctr, four       V = 21, 22, 23
	)
	f.I("MOVWU %s, R9", f.Arg("key0"))
	f.I("VDUP R9, V%d.S4", k0)
	f.I("MOVWU %s, R9", f.Arg("key1"))
	f.I("VDUP R9, V%d.S4", k1)
	f.I("MOVWU %s, R9", f.Arg("threshold"))
	f.I("VDUP R9, V%d.S4", thr)
	nl.Bits(f, m1, dropoutM1)
	nl.Bits(f, m2, dropoutM2)
	nl.Bits(f, four, 4)
	nl.Arg32(f, sc, "scale")
	// Lane i starts at counter+i; VMOV takes the low 32 bits of R9, so
	// the counters wrap past 2³² as the reference's uint32 sum does.
	f.I("MOVWU %s, R9", f.Arg("counter"))
	for lane := range 4 {
		if lane > 0 {
			f.I("ADD $1, R9")
		}
		f.I("VMOV R9, V%d.S[%d]", ctr, lane)
	}
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("x_len"))
	shiftXor := func(by int) {
		f.I("VUSHR $%d, V%d.S4, V%d.S4", by, h, t)
		f.I("VEOR V%d.B16, V%d.B16, V%d.B16", t, h, h)
	}
	mix := func() {
		shiftXor(16)
		g.w(neon.MUL(h, h, m1))
		shiftXor(15)
		g.w(neon.MUL(h, h, m2))
		shiftXor(16)
	}
	nl.Loop(f, "", 2, 7, []nl.Stream{{Ptr: 1, Reg: in, Load: true}, {Ptr: 0, Reg: out, Store: true}}, func() {
		f.I("VEOR V%d.B16, V%d.B16, V%d.B16", k0, ctr, h)
		mix()
		f.I("VEOR V%d.B16, V%d.B16, V%d.B16", k1, h, h)
		mix()
		f.I("VUSHR $8, V%d.S4, V%d.S4", h, h)
		g.w(neon.CMHS(h, h, thr)) // h>>8 ≥ threshold, unsigned
		g.w(neon.FMUL(out, in, sc))
		// A dropped lane is +0 whatever x is, NaN included.
		f.I("VAND V%d.B16, V%d.B16, V%d.B16", h, out, out)
		f.I("VADD V%d.S4, V%d.S4, V%d.S4", four, ctr, ctr)
	})
	f.I("RET")
}
