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
	var ls []nl.Stream
	for i, s := range streams {
		f.I("MOVD %s, R%d", f.Arg(s.name+"_base"), i)
		ls = append(ls, nl.Stream{Ptr: i, Reg: s.reg, Load: true, Store: s.out})
	}
	f.I("MOVD %s, R10", f.Arg(streams[0].name+"_len"))
	nl.Loop(f, "", 10, 11, ls, body)
	f.I("RET")
}

func (g *gen) steps() {
	const t, u, d = V(8), V(9), V(10)
	theta, m, v, mom, mg, vhat, gr := V(0), V(1), V(2), V(3), V(4), V(5), V(6)

	// SGD: m ← (g·(−η)) + (m·μ); θ ← θ + m. (−g)·η = g·(−η) exactly.
	negLR, mu := V(16), V(17)
	sgdStreams := []stream{{"theta", theta, true}, {"m", m, true}, {"g", gr, false}}
	g.step("SGDStepNEON", "refSGDStep (kernels/ref_optim.go) without Nesterov",
		"func(theta, m, g []float32, negLR, mu float32)", sgdStreams,
		[]scalar{{"negLR", negLR}, {"mu", mu}}, func() {
			g.w(neon.FMUL(t, gr, negLR))
			g.w(neon.FMUL(u, m, mu))
			g.w(neon.FADD(m, t, u))
			g.w(neon.FADD(theta, theta, m))
		})
	g.step("SGDNesterovStepNEON", "refSGDStep (kernels/ref_optim.go) with Nesterov",
		"func(theta, m, g []float32, negLR, mu float32)", sgdStreams,
		[]scalar{{"negLR", negLR}, {"mu", mu}}, func() {
			g.w(neon.FMUL(t, gr, negLR)) // a
			g.w(neon.FMUL(u, m, mu))
			g.w(neon.FADD(m, t, u))
			g.w(neon.FMUL(u, m, mu))
			g.w(neon.FADD(t, t, u))
			g.w(neon.FADD(theta, theta, t))
		})

	// Adagrad: a ← a + g²; θ ← θ − (η·g)/sqrt(a + ε).
	lr, eps := V(16), V(17)
	g.step("AdagradStepNEON", "refAdagradStep (kernels/ref_optim.go)",
		"func(theta, acc, g []float32, lr, eps float32)",
		[]stream{{"theta", theta, true}, {"acc", v, true}, {"g", gr, false}},
		[]scalar{{"lr", lr}, {"eps", eps}}, func() {
			g.w(neon.FMUL(t, gr, gr))
			g.w(neon.FADD(v, v, t))
			g.w(neon.FMUL(u, lr, gr))
			g.w(neon.FADD(d, v, eps))
			g.w(neon.FSQRT(d, d))
			g.w(neon.FDIV(u, u, d))
			g.w(neon.FSUB(theta, theta, u))
		})

	// RMSprop, four variants: momentum buffer or not, centered or not.
	for _, variant := range []struct {
		name              string
		momentum, centred bool
	}{{"", false, false}, {"Centered", false, true}, {"Momentum", true, false}, {"MomentumCentered", true, true}} {
		rho, omr, lr, mu, eps := V(16), V(17), V(18), V(19), V(20)
		sig := "func(theta, v"
		streams := []stream{{"theta", theta, true}, {"v", v, true}}
		if variant.momentum {
			sig += ", mom"
			streams = append(streams, stream{"mom", mom, true})
		}
		if variant.centred {
			sig += ", mg"
			streams = append(streams, stream{"mg", mg, true})
		}
		sig += ", g []float32, lr, rho, omr"
		scalars := []scalar{{"lr", lr}, {"rho", rho}, {"omr", omr}, {"eps", eps}}
		if variant.momentum {
			sig += ", mu"
			scalars = append(scalars, scalar{"mu", mu})
		}
		sig += ", eps float32)"
		streams = append(streams, stream{"g", gr, false})
		what := "refRMSpropStep (kernels/ref_optim.go) with "
		if variant.momentum {
			what += "mom and "
		} else {
			what += "mom nil and "
		}
		if variant.centred {
			what += "mg"
		} else {
			what += "mg nil"
		}
		g.step("RMSprop"+variant.name+"StepNEON", what, sig, streams, scalars, func() {
			// v ← (ρ·v) + (1−ρ)·(g·g)
			g.w(neon.FMUL(t, gr, gr))
			g.w(neon.FMUL(t, omr, t))
			g.w(neon.FMUL(v, rho, v))
			g.w(neon.FADD(v, v, t))
			if variant.centred {
				// ḡ ← (ρ·ḡ) + ((1−ρ)·g); d ← (v − ḡ·ḡ) + ε
				g.w(neon.FMUL(mg, rho, mg))
				g.w(neon.FMUL(t, omr, gr))
				g.w(neon.FADD(mg, mg, t))
				g.w(neon.FMUL(t, mg, mg))
				g.w(neon.FSUB(d, v, t))
				g.w(neon.FADD(d, d, eps))
			} else {
				g.w(neon.FADD(d, v, eps))
			}
			// inc ← (η·g)·(1/sqrt(d))
			g.w(neon.FSQRT(d, d))
			g.w(neon.FDIV(d, vOne, d))
			g.w(neon.FMUL(u, lr, gr))
			g.w(neon.FMUL(u, u, d))
			if variant.momentum {
				g.w(neon.FMUL(mom, mu, mom))
				g.w(neon.FADD(mom, mom, u))
				g.w(neon.FSUB(theta, theta, mom))
			} else {
				g.w(neon.FSUB(theta, theta, u))
			}
		})
	}

	// Adam: m ← m + (g − m)·(1−β1); v ← v + (g² − v)·(1−β2);
	// θ ← θ − (m·α)/(sqrt(v) + ε), with v̂ ← max(v̂, v) in place of v for
	// AMSGrad.
	for _, ams := range []bool{false, true} {
		alpha, omb1, omb2, eps := V(16), V(17), V(18), V(19)
		streams := []stream{{"theta", theta, true}, {"m", m, true}, {"v", v, true}}
		sig := "func(theta, m, v"
		name, what := "AdamStepNEON", "refAdamStep (kernels/ref_optim.go) with vhat nil"
		if ams {
			streams = append(streams, stream{"vhat", vhat, true})
			sig += ", vhat"
			name, what = "AMSGradStepNEON", "refAdamStep (kernels/ref_optim.go) with vhat given"
		}
		streams = append(streams, stream{"g", gr, false})
		sig += ", g []float32, alpha, omb1, omb2, eps float32)"
		g.step(name, what, sig, streams,
			[]scalar{{"alpha", alpha}, {"omb1", omb1}, {"omb2", omb2}, {"eps", eps}}, func() {
				g.w(neon.FSUB(t, gr, m))
				g.w(neon.FMUL(t, t, omb1))
				g.w(neon.FADD(m, m, t))
				g.w(neon.FMUL(t, gr, gr))
				g.w(neon.FSUB(t, t, v))
				g.w(neon.FMUL(t, t, omb2))
				g.w(neon.FADD(v, v, t))
				s := v
				if ams {
					// v̂ takes v where !(v̂ ≥ v), so a NaN in v reaches v̂.
					g.w(neon.FCMGE(d, vhat, v))
					g.f.I("VBIF V%d.B16, V%d.B16, V%d.B16", d, v, vhat)
					s = vhat
				}
				g.w(neon.FSQRT(d, s))
				g.w(neon.FADD(d, d, eps))
				g.w(neon.FMUL(t, m, alpha))
				g.w(neon.FDIV(t, t, d))
				g.w(neon.FSUB(theta, theta, t))
			})
	}

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
			g.w(neon.FCMGT(t, lo, 0))
			g.w(neon.FCMGT(u, 0, hi))
			g.f.I("VBIT V%d.B16, V%d.B16, V0.B16", u, hi)
			g.f.I("VBIT V%d.B16, V%d.B16, V0.B16", t, lo)
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
