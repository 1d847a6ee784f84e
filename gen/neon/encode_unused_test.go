package neon

import "fmt"

// The encoders below are for instructions no generator emits yet. They
// live with the tests, which check their bits, rather than in encode.go,
// so that the emitter carries only what the kernels use; a generator that
// needs one moves it back beside the others.

// FMLS is d -= n · m, fused.
func FMLS(d, n, m V) Word { return three(0x4ea0cc00, "fmls", d, n, m) }

// FADDP adds adjacent pairs: d = (n0+n1, n2+n3, m0+m1, m2+m3).
func FADDP(d, n, m V) Word { return three(0x6e20d400, "faddp", d, n, m) }

// FRECPE is the reciprocal estimate of each lane of n.
func FRECPE(d, n V) Word { return two(0x4ea1d800, "frecpe", d, n) }

// FRECPS is d = 2 - n·m, the Newton-Raphson step of a reciprocal.
func FRECPS(d, n, m V) Word { return three(0x4e20fc00, "frecps", d, n, m) }

// FCVTZS converts float32 lanes to int32, rounding toward zero.
func FCVTZS(d, n V) Word { return two(0x4ea1b800, "fcvtzs", d, n) }

// FRINTN rounds each lane to an integral value, ties to even.
func FRINTN(d, n V) Word { return two(0x4e218800, "frintn", d, n) }

// FMULElem is d = n · m[idx].
func FMULElem(d, n, m V, idx int) Word { return byElement(0x4f809000, "fmul", d, n, m, idx) }

// FADDPScalar adds the two lanes of n's low half into lane 0 of d (a
// scalar: d's other lanes are zeroed).
func FADDPScalar(d, n V) Word {
	bits := uint32(0x7e30d800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("faddp s%d, v%d.2s", d, n)}
}
