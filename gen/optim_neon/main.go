// Command optim_neon generates the NEON optimizer steps and reductions of
// package kernels (kernels/optim_arm64.go is the Go side). Each step does
// the reference's float32 operations (kernels/ref_optim.go) in its order,
// never fused, so the results are bit-identical to the generic level.
package main

import (
	"flag"
	"fmt"
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
	g.steps()
	g.sumSquares()
	g.allFinite()
	g.colSum()
	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}

type gen struct{ f *neon.File }

func (g *gen) w(w neon.Word) { g.f.W(w) }

// stream is one slice argument of an elementwise step: its lanes are
// loaded into reg each iteration and, when out, stored back.
type stream struct {
	name string
	reg  V
	out  bool
}

// scalar is a float32 argument broadcast into reg.
type scalar struct {
	name string
	reg  V
}

// One is +1.0 in every lane, for the steps that take 1/sqrt(d).
const vOne V = 31

// vFloor holds 2⁻⁹⁵, the smallest magnitude a decaying slot keeps
// (kernels' flushSlot), in every lane, for flush.
const vFloor V = 30

// step emits an elementwise kernel over len(first stream) elements, any
// length (gen/internal/neon's Loop finishes the tail lane by lane):
// streams in V0…, scalars in V16…, temporaries from V8 on.
func (g *gen) step(name, ref, sig string, streams []stream, scalars []scalar, body func()) {
	f := g.f
	f.Text(&neon.Func{Name: name, Sig: sig, Doc: []string{
		fmt.Sprintf("%s is %s, bit for bit, for any length: it reads", name, ref),
		fmt.Sprintf("len(%s) elements of every slice (kernels/optim_asm.go checks the", streams[0].name),
		"lengths); the last len%4 go through the same vector operations, loaded and",
		"stored lane by lane. In assembly because Go does not vectorise it: 4 lanes",
		"per instruction.",
	}})
	for _, s := range scalars {
		nl.Arg32(f, s.reg, s.name)
	}
	f.I("FMOVS $1.0, F%d", vOne)
	f.I("VDUP V%d.S[0], V%d.S4", vOne, vOne)
	nl.Bits(f, vFloor, 0x10000000)
	var ls []nl.Stream
	for i, s := range streams {
		f.I("MOVD %s, R%d", f.Arg(s.name+"_base"), i)
		ls = append(ls, nl.Stream{Ptr: i, Reg: s.reg, Load: true, Store: s.out})
	}
	f.I("MOVD %s, R10", f.Arg(streams[0].name+"_len"))
	nl.Loop(f, "", 10, 11, ls, body)
	f.I("RET")
}

// The step kernels' registers: each slice keeps one stream register in
// every step (step loads streams from V0 and scalars from V16 on), and
// the temporaries start at V8.
const (
	vTheta, vM, vV, vMom, vMG, vVhat, vG V = 0, 1, 2, 3, 4, 5, 6
	vT, vU, vD                           V = 8, 9, 10
)

// flush applies kernels' flushSlot to x in place, with tmp as scratch:
// the lanes whose magnitude is below 2⁻⁹⁵ (subnormals of either sign, −0
// and the small normal values) become +0. A NaN compares false and keeps its bits, as ±Inf and the
// normal values do. FABS and FCMGT with FPCR.FZ clear (as Go runs) see a
// subnormal as it is and form no subnormal result.
func (g *gen) flush(x, tmp V) {
	g.w(neon.FABS(tmp, x))
	g.w(neon.FCMGT(tmp, vFloor, tmp)) // 2⁻⁹⁵ > |x|: the lanes to clear
	g.w(neon.BIC(x, x, tmp))
}

// steps emits the optimizers' update kernels and the elementwise
// Scale and Clamp.
func (g *gen) steps() {
	g.sgdSteps()
	g.adagradStep()
	for _, variant := range []struct {
		name              string
		momentum, centred bool
	}{{"", false, false}, {"Centered", false, true}, {"Momentum", true, false}, {"MomentumCentered", true, true}} {
		g.rmspropStep(variant.name, variant.momentum, variant.centred)
	}
	for _, ams := range []bool{false, true} {
		g.adamStep(ams)
	}
	g.scaleClampSteps()
}

// sgdSteps emits SGD without and with Nesterov momentum.
func (g *gen) sgdSteps() {
	// SGD: m ← flush((g·(−η)) + (m·μ)); θ ← θ + m. (−g)·η = g·(−η)
	// exactly.
	negLR, mu := V(16), V(17)
	sgdStreams := []stream{{"theta", vTheta, true}, {"m", vM, true}, {"g", vG, false}}
	g.step("SGDStepNEON", "refSGDStep (kernels/ref_optim.go) without Nesterov",
		"func(theta, m, g []float32, negLR, mu float32)", sgdStreams,
		[]scalar{{"negLR", negLR}, {"mu", mu}}, func() {
			g.w(neon.FMUL(vT, vG, negLR))
			g.w(neon.FMUL(vU, vM, mu))
			g.w(neon.FADD(vM, vT, vU))
			g.flush(vM, vU)
			g.w(neon.FADD(vTheta, vTheta, vM))
		})
	g.step("SGDNesterovStepNEON", "refSGDStep (kernels/ref_optim.go) with Nesterov",
		"func(theta, m, g []float32, negLR, mu float32)", sgdStreams,
		[]scalar{{"negLR", negLR}, {"mu", mu}}, func() {
			g.w(neon.FMUL(vT, vG, negLR)) // a
			g.w(neon.FMUL(vU, vM, mu))
			g.w(neon.FADD(vM, vT, vU))
			g.flush(vM, vU)
			g.w(neon.FMUL(vU, vM, mu))
			g.w(neon.FADD(vT, vT, vU))
			g.w(neon.FADD(vTheta, vTheta, vT))
		})
}

// adagradStep emits Adagrad: a ← a + g²; θ ← θ − (η·g)/sqrt(a + ε).
func (g *gen) adagradStep() {
	lr, eps := V(16), V(17)
	g.step("AdagradStepNEON", "refAdagradStep (kernels/ref_optim.go)",
		"func(theta, acc, g []float32, lr, eps float32)",
		[]stream{{"theta", vTheta, true}, {"acc", vV, true}, {"g", vG, false}},
		[]scalar{{"lr", lr}, {"eps", eps}}, func() {
			g.w(neon.FMUL(vT, vG, vG))
			g.w(neon.FADD(vV, vV, vT))
			g.w(neon.FMUL(vU, lr, vG))
			g.w(neon.FADD(vD, vV, eps))
			g.w(neon.FSQRT(vD, vD))
			g.w(neon.FDIV(vU, vU, vD))
			g.w(neon.FSUB(vTheta, vTheta, vU))
		})
}

// rmspropStep emits one of RMSprop's four variants: with a momentum
// buffer or not, centred or not. Each variant is its own kernel so that
// its loop holds no branch.
func (g *gen) rmspropStep(suffix string, momentum, centred bool) {
	rho, omr, lr, mu, eps := V(16), V(17), V(18), V(19), V(20)
	sig := "func(theta, v"
	streams := []stream{{"theta", vTheta, true}, {"v", vV, true}}
	if momentum {
		sig += ", mom"
		streams = append(streams, stream{"mom", vMom, true})
	}
	if centred {
		sig += ", mg"
		streams = append(streams, stream{"mg", vMG, true})
	}
	sig += ", g []float32, lr, rho, omr"
	scalars := []scalar{{"lr", lr}, {"rho", rho}, {"omr", omr}, {"eps", eps}}
	if momentum {
		sig += ", mu"
		scalars = append(scalars, scalar{"mu", mu})
	}
	sig += ", eps float32)"
	streams = append(streams, stream{"g", vG, false})
	what := "refRMSpropStep (kernels/ref_optim.go) with "
	if momentum {
		what += "mom and "
	} else {
		what += "mom nil and "
	}
	if centred {
		what += "mg"
	} else {
		what += "mg nil"
	}
	g.step("RMSprop"+suffix+"StepNEON", what, sig, streams, scalars, func() {
		g.rmspropBody(momentum, centred, rho, omr, lr, mu, eps)
	})
}

// rmspropBody emits one vector of an RMSprop step, in the reference's
// order of float32 operations.
func (g *gen) rmspropBody(momentum, centred bool, rho, omr, lr, mu, eps V) {
	// v ← flush((ρ·v) + (1−ρ)·(g·g))
	g.w(neon.FMUL(vT, vG, vG))
	g.w(neon.FMUL(vT, omr, vT))
	g.w(neon.FMUL(vV, rho, vV))
	g.w(neon.FADD(vV, vV, vT))
	g.flush(vV, vT)
	if centred {
		// ḡ ← flush((ρ·ḡ) + ((1−ρ)·g)); d ← (v − ḡ·ḡ) + ε
		g.w(neon.FMUL(vMG, rho, vMG))
		g.w(neon.FMUL(vT, omr, vG))
		g.w(neon.FADD(vMG, vMG, vT))
		g.flush(vMG, vT)
		g.w(neon.FMUL(vT, vMG, vMG))
		g.w(neon.FSUB(vD, vV, vT))
		g.w(neon.FADD(vD, vD, eps))
	} else {
		g.w(neon.FADD(vD, vV, eps))
	}
	// inc ← (η·g)·(1/sqrt(d))
	g.w(neon.FSQRT(vD, vD))
	g.w(neon.FDIV(vD, vOne, vD))
	g.w(neon.FMUL(vU, lr, vG))
	g.w(neon.FMUL(vU, vU, vD))
	if momentum {
		g.w(neon.FMUL(vMom, mu, vMom))
		g.w(neon.FADD(vMom, vMom, vU))
		g.flush(vMom, vT)
		g.w(neon.FSUB(vTheta, vTheta, vMom))
	} else {
		g.w(neon.FSUB(vTheta, vTheta, vU))
	}
}

// adamStep emits Adam, or with ams AMSGrad: m ← flush(m + (g − m)·(1−β1));
// v ← flush(v + (g² − v)·(1−β2)); θ ← θ − (m·α)/(sqrt(v) + ε), with
// v̂ ← flush(max(v̂, v)) in place of v for AMSGrad.
func (g *gen) adamStep(ams bool) {
	alpha, omb1, omb2, eps := V(16), V(17), V(18), V(19)
	streams := []stream{{"theta", vTheta, true}, {"m", vM, true}, {"v", vV, true}}
	sig := "func(theta, m, v"
	name, what := "AdamStepNEON", "refAdamStep (kernels/ref_optim.go) with vhat nil"
	if ams {
		streams = append(streams, stream{"vhat", vVhat, true})
		sig += ", vhat"
		name, what = "AMSGradStepNEON", "refAdamStep (kernels/ref_optim.go) with vhat given"
	}
	streams = append(streams, stream{"g", vG, false})
	sig += ", g []float32, alpha, omb1, omb2, eps float32)"
	g.step(name, what, sig, streams,
		[]scalar{{"alpha", alpha}, {"omb1", omb1}, {"omb2", omb2}, {"eps", eps}}, func() {
			g.w(neon.FSUB(vT, vG, vM))
			g.w(neon.FMUL(vT, vT, omb1))
			g.w(neon.FADD(vM, vM, vT))
			g.flush(vM, vT)
			g.w(neon.FMUL(vT, vG, vG))
			g.w(neon.FSUB(vT, vT, vV))
			g.w(neon.FMUL(vT, vT, omb2))
			g.w(neon.FADD(vV, vV, vT))
			g.flush(vV, vT)
			s := vV
			if ams {
				// v̂ takes v where !(v̂ ≥ v), so a NaN in v reaches v̂.
				g.w(neon.FCMGE(vD, vVhat, vV))
				g.f.I("VBIF V%d.B16, V%d.B16, V%d.B16", vD, vV, vVhat)
				g.flush(vVhat, vD)
				s = vVhat
			}
			g.w(neon.FSQRT(vD, s))
			g.w(neon.FADD(vD, vD, eps))
			g.w(neon.FMUL(vT, vM, alpha))
			g.w(neon.FDIV(vT, vT, vD))
			g.w(neon.FSUB(vTheta, vTheta, vT))
		})
}

// scaleClampSteps emits Scale and Clamp, which work on x in place.
func (g *gen) scaleClampSteps() {
	scale := V(16)
	g.step("ScaleNEON", "refScale (kernels/ref.go)", "func(x []float32, s float32)",
		[]stream{{"x", 0, true}}, []scalar{{"s", scale}}, func() {
			g.w(neon.FMUL(0, 0, scale))
		})

	lo, hi := V(16), V(17)
	g.step("ClampNEON", "refClamp (kernels/ref.go)", "func(x []float32, lo, hi float32)",
		[]stream{{"x", 0, true}}, []scalar{{"lo", lo}, {"hi", hi}}, func() {
			// Both masks from the original x, the lower bound winning
			// as the reference's if/else does; NaN fails both.
			g.w(neon.FCMGT(vT, lo, 0))
			g.w(neon.FCMGT(vU, 0, hi))
			g.f.I("VBIT V%d.B16, V%d.B16, V0.B16", vU, hi)
			g.f.I("VBIT V%d.B16, V%d.B16, V0.B16", vT, lo)
		})
}

// sumSquares emits SumSquaresNEON(x) (sum float64): refSumSquares
// whole. Element i goes into partial sum i mod 32, each float64 addition
// in the reference's order; the tail (under 32 elements) is loaded into
// zeroed registers, lane by lane past its whole vectors, and added as one
// more block: its spare lanes add +0, which leaves a partial sum (never
// −0) unchanged. The 32 partials are then folded as the reference folds
// them.
func (g *gen) sumSquares() {
	f := g.f
	const name = "SumSquaresNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(x []float32) (sum float64)", Doc: []string{
		name + " is refSumSquares (kernels/ref.go) bit for bit, for any length:",
		"x[i]² is added to partial sum i mod 32, in index order, starting from zero,",
		"and the 32 partials are folded in the reference's order. Each square of a",
		"float32 is exact in float64, so the fused multiply-add rounds only the",
		"addition, as the reference. In assembly because Go does not vectorise it.",
	}})
	// V0–V15 the 32 float64 partial sums (two per register, partial k in
	// lane k%2 of V(k/2)), V16–V23 the 32 floats of one block, V24–V25
	// widened pairs.
	for i := range 16 {
		nl.Zero(f, V(i))
	}
	f.I("MOVD %s, R0", f.Arg("x_base"))
	f.I("MOVD %s, R1", f.Arg("x_len"))
	f.I("AND $31, R1, R2")
	f.I("LSR $5, R1")
	f.I("CBZ R1, %s", f.L("tail"))
	f.Label("loop")
	f.I("VLD1.P 64(R0), [V16.S4, V17.S4, V18.S4, V19.S4]")
	f.I("VLD1.P 64(R0), [V20.S4, V21.S4, V22.S4, V23.S4]")
	g.squares()
	f.I("SUBS $1, R1")
	f.I("BNE %s", f.L("loop"))
	f.Label("tail")
	f.I("CBZ R2, %s", f.L("fold"))
	for c := range 8 {
		nl.Zero(f, V(16+c))
	}
	// At most 7 whole vectors: the eighth is always lanes.
	for c := range 7 {
		f.I("CMP $4, R2")
		f.I("BLT %s", f.L(fmt.Sprintf("lanes%d", c)))
		f.I("VLD1.P 16(R0), [V%d.S4]", 16+c)
		f.I("SUBS $4, R2")
		f.I("BEQ %s", f.L("block"))
	}
	f.I("B %s", f.L("lanes7"))
	for c := range 8 {
		f.Label(fmt.Sprintf("lanes%d", c))
		nl.Lanes(f, fmt.Sprintf("lanes%ddone", c), 2, []nl.Stream{{Ptr: 0, Reg: V(16 + c), Load: true}}, true)
		f.I("B %s", f.L("block"))
	}
	f.Label("block")
	g.squares()
	f.Label("fold")
	for step := 16; step >= 2; step /= 2 {
		for i := range step / 2 {
			g.w(neon.FADD2D(V(i), V(i), V(i+step/2)))
		}
	}
	g.w(neon.FADDPScalar2D(0, 0))
	f.I("FMOVD F0, %s", f.Arg("sum"))
	f.I("RET")
}

// squares adds the squares of the 32 floats in V16–V23 to the partial
// sums.
func (g *gen) squares() {
	for c := range 8 {
		src := V(16 + c)
		g.w(neon.FCVTL(24, src))
		g.w(neon.FCVTL2(25, src))
		g.w(neon.FMLA2D(V(2*c), 24, 24))
		g.w(neon.FMLA2D(V(2*c+1), 25, 25))
	}
}

// allFinite emits AllFiniteNEON(x): whether no element of x has an
// all-ones exponent. The tail's spare lanes are zeros, which are finite.
func (g *gen) allFinite() {
	f := g.f
	const name = "AllFiniteNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(x []float32) (ok bool)", Doc: []string{
		name + " is refAllFinite (kernels/ref.go) for any length, the last",
		"len%4 elements loaded lane by lane. In assembly because Go does not",
		"vectorise it.",
	}})
	nl.Bits(f, 1, 0x7f800000)
	nl.Zero(f, 2)
	f.I("MOVD %s, R0", f.Arg("x_base"))
	f.I("MOVD %s, R1", f.Arg("x_len"))
	nl.Loop(f, "", 1, 7, []nl.Stream{{Ptr: 0, Reg: 0, Load: true}}, func() {
		f.I("VAND V1.B16, V0.B16, V0.B16")
		f.I("VCMEQ V1.S4, V0.S4, V0.S4")
		f.I("VORR V0.B16, V2.B16, V2.B16")
	})
	f.I("VMOV V2.D[0], R3")
	f.I("VMOV V2.D[1], R4")
	f.I("ORR R3, R4")
	f.I("CMP $0, R4")
	f.I("CSET EQ, R4")
	f.I("MOVB R4, %s", f.Arg("ok"))
	f.I("RET")
}

// colSum emits ColSumNEON(dst, x, rows, cols): dst[j] = Σ_i x[i·cols+j],
// adding rows in order from +0 in float32 as refColSum does, four columns
// per vector and the last cols%4 columns in the lanes of one more (loaded
// and stored lane by lane). rows = 0 gives zeros.
func (g *gen) colSum() {
	f := g.f
	const name = "ColSumNEON"
	f.Text(&neon.Func{Name: name, Sig: "func(dst, x []float32, rows, cols int)", Doc: []string{
		name + " is refColSum (kernels/ref.go) bit for bit, for any shape: each",
		"lane adds its column's rows in order. len(dst) ≥ cols, len(x) ≥ rows·cols",
		"(kernels/optim_asm.go checks them). In assembly because Go does not",
		"vectorise it.",
	}})
	// R0 dst, R1 the column block's top, R2 whole blocks, R7 tail
	// columns, R3 rows, R4 the row stride in bytes, R5 a load pointer,
	// R6 rows left, R8 the tail's lane pointer.
	f.I("MOVD %s, R0", f.Arg("dst_base"))
	f.I("MOVD %s, R1", f.Arg("x_base"))
	f.I("MOVD %s, R2", f.Arg("cols"))
	f.I("AND $3, R2, R7")
	f.I("LSR $2, R2")
	f.I("MOVD %s, R3", f.Arg("rows"))
	f.I("MOVD %s, R4", f.Arg("cols"))
	f.I("LSL $2, R4")
	f.I("CBZ R2, %s", f.L("tail"))
	f.Label("col")
	nl.Zero(f, 0)
	f.I("MOVD R1, R5")
	f.I("MOVD R3, R6")
	f.I("CBZ R6, %s", f.L("store"))
	f.Label("row")
	f.I("VLD1 (R5), [V1.S4]")
	g.w(neon.FADD(0, 0, 1))
	f.I("ADD R4, R5")
	f.I("SUBS $1, R6")
	f.I("BNE %s", f.L("row"))
	f.Label("store")
	f.I("VST1.P [V0.S4], 16(R0)")
	f.I("ADD $16, R1")
	f.I("SUBS $1, R2")
	f.I("BNE %s", f.L("col"))
	f.Label("tail")
	f.I("CBZ R7, %s", f.L("done"))
	nl.Zero(f, 0)
	f.I("MOVD R1, R5")
	f.I("MOVD R3, R6")
	f.I("CBZ R6, %s", f.L("tailstore"))
	f.Label("tailrow")
	nl.Zero(f, 1)
	f.I("MOVD R5, R8")
	nl.Lanes(f, "tailload", 7, []nl.Stream{{Ptr: 8, Reg: 1, Load: true}}, true)
	g.w(neon.FADD(0, 0, 1))
	f.I("ADD R4, R5")
	f.I("SUBS $1, R6")
	f.I("BNE %s", f.L("tailrow"))
	f.Label("tailstore")
	nl.Lanes(f, "tailput", 7, []nl.Stream{{Ptr: 0, Reg: 0, Store: true}}, false)
	f.Label("done")
	f.I("RET")
}
