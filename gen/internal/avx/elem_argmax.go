package avx

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Argmax, which CountCorrect runs too.

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
