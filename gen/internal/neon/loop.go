// Package neon holds what the NEON emitters (gen/elem_neon, gen/optim_neon)
// share: the elementwise loop whose tail runs the same vector body on the
// last len%4 elements loaded lane by lane, constant broadcasts, and the
// exponential, sigmoid and tanh bodies that mirror kernels/ref_exp.go. It
// builds on the instruction encoders of gen/neon, which it imports as enc.
//
// A kernel emitted with Loop handles every length itself: the tail loads
// its 1 to 3 elements into lanes of zeroed vectors, runs the body the
// whole vectors run, and stores back only those lanes, so nothing outside
// a slice is read or written and every stored lane went through exactly
// the reference's per-element operations. The spare lanes compute on
// zeros and are dropped; the bodies never trap (floating-point exceptions
// are not enabled in Go programs), so their values do not matter.
package neon

import (
	"fmt"
	"math"

	enc "github.com/simdmlp/simdmlp/gen/neon"
)

// Stream is one slice an elementwise loop walks, four float32s per
// iteration: its address in general register Ptr, its lanes in vector
// register Reg. A stream that is both loaded and stored is updated in
// place.
type Stream struct {
	Ptr         int
	Reg         enc.V
	Load, Store bool
}

// Loop emits a loop over the element count in general register n: whole
// vectors first, then the tail of n%4 elements. Every stream's pointer ends
// just past its last element. body computes the stored registers from the
// loaded ones and may use the vector registers the caller leaves free, but
// no general register. n and t (a scratch general register) are
// clobbered; name keeps the labels apart when a function has several
// loops.
func Loop(f *enc.File, name string, n, t int, streams []Stream, body func()) {
	L := func(s string) string { return name + s }
	f.I("AND $3, R%d, R%d", n, t)
	f.I("LSR $2, R%d", n)
	f.I("CBZ R%d, %s", n, f.L(L("tail")))
	f.Label(L("loop"))
	for _, s := range streams {
		switch {
		case s.Load && s.Store:
			f.I("VLD1 (R%d), [V%d.S4]", s.Ptr, s.Reg)
		case s.Load:
			f.I("VLD1.P 16(R%d), [V%d.S4]", s.Ptr, s.Reg)
		}
	}
	body()
	for _, s := range streams {
		if s.Store {
			f.I("VST1.P [V%d.S4], 16(R%d)", s.Reg, s.Ptr)
		}
	}
	f.I("SUBS $1, R%d", n)
	f.I("BNE %s", f.L(L("loop")))

	f.Label(L("tail"))
	f.I("CBZ R%d, %s", t, f.L(L("done")))
	var loads, stores []Stream
	for _, s := range streams {
		if s.Load {
			f.I("VEOR V%d.B16, V%d.B16, V%d.B16", s.Reg, s.Reg, s.Reg)
			loads = append(loads, s)
		}
		if s.Store {
			stores = append(stores, s)
		}
	}
	Lanes(f, L("tailload"), t, loads, true)
	// The in-place streams go back to their first tail element for the
	// stores.
	for _, s := range streams {
		if s.Load && s.Store {
			f.I("SUB R%d<<2, R%d", t, s.Ptr)
		}
	}
	body()
	Lanes(f, L("tailstore"), t, stores, false)
	f.Label(L("done"))
}

// Lanes emits the loads (or the stores) of the first R(cnt) lanes, 1 to
// 3, of every stream's register, each pointer moving on past the
// elements it touched.
func Lanes(f *enc.File, name string, cnt int, streams []Stream, load bool) {
	for lane := range 3 {
		if lane > 0 {
			f.I("CMP $%d, R%d", lane+1, cnt)
			f.I("BLT %s", f.L(name))
		}
		for _, s := range streams {
			if load {
				f.I("VLD1.P 4(R%d), V%d.S[%d]", s.Ptr, s.Reg, lane)
			} else {
				f.I("VST1.P V%d.S[%d], 4(R%d)", s.Reg, lane, s.Ptr)
			}
		}
	}
	f.Label(name)
}

// Const loads float32 x into every lane of v through R9.
func Const(f *enc.File, v enc.V, x float32) {
	Bits(f, v, math.Float32bits(x))
}

// Bits loads the 32-bit pattern b into every lane of v through R9.
func Bits(f *enc.File, v enc.V, b uint32) {
	f.I("MOVW $0x%08x, R9", b)
	f.I("VDUP R9, V%d.S4", v)
}

// Arg32 broadcasts the float32 argument name into every lane of v.
func Arg32(f *enc.File, v enc.V, name string) {
	f.I("FMOVS %s, F%d", f.Arg(name), v)
	f.I("VDUP V%d.S[0], V%d.S4", v, v)
}

// Arg64 broadcasts the float64 argument name into both lanes of v.
func Arg64(f *enc.File, v enc.V, name string) {
	f.I("FMOVD %s, F%d", f.Arg(name), v)
	f.I("VDUP V%d.D[0], V%d.D2", v, v)
}

// Zero clears v.
func Zero(f *enc.File, v enc.V) {
	f.I("VEOR V%d.B16, V%d.B16, V%d.B16", v, v, v)
}

// Doc is the standard doc comment of a NEON kernel.
func Doc(name, ref, what, pre string) []string {
	return []string{
		fmt.Sprintf("%s computes %s with NEON, as kernels.%s does, for every", name, what, ref),
		"length: the last len%4 elements go through the same vector operations,",
		"loaded and stored lane by lane. Assembly because Go has no vector arithmetic.",
		"",
		"Preconditions (checked by the exported kernels): " + pre,
	}
}
