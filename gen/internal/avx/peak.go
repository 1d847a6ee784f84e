package avx

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GeneratePeak emits FMAPeak<suffix>(iters int): iters rounds of one
// fused multiply-add on each of the accumulators acc, every one its own
// dependency chain, with mul and add holding the constant operands. It is
// the machine's floating-point peak for vectors of that width, measured by
// code that does nothing else: no loads, no stores, one fused
// decrement-and-branch per round. lanes is the float32 lanes per vector.
//
// Each accumulator runs acc = acc·0.5 + 1, which converges to 2 from the
// zero it starts at, so no value ever becomes a subnormal or an infinity
// (some cores slow down on those).
func GeneratePeak(suffix string, lanes int, acc []VecPhysical, mul, add VecPhysical, half, one func(VecPhysical)) {
	name := "FMAPeak" + suffix
	TEXT(name, NOSPLIT, "func(iters int)")
	Doc(
		fmt.Sprintf("%s runs iters rounds of %d independent fused multiply-adds on", name, len(acc)),
		fmt.Sprintf("%d-lane float32 vectors, %d floating-point operations a round, and", lanes, 2*lanes*len(acc)),
		"nothing else: the measure of the core's peak that the benchmarks and the",
		"performance gate divide by. The chains outnumber what FMA latency times",
		"the FMA units needs, so the units, not the chains, set the pace.",
	)
	n := Load(Param("iters"), GP64())
	half(mul)
	one(add)
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("loop")
	for _, a := range acc {
		VFMADD213PS(add, mul, a) // a = mul·a + add
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	End()
}
