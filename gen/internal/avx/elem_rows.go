package avx

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The row kernels: the short-row and row loops, the horizontal
// reductions and float64 helpers, Softmax, BiasSoftmax and SoftmaxGrad.

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

// softmaxArgs are the operands of Softmax or BiasSoftmax. For
// BiasSoftmax dst is x (in place) and bias is set.
type softmaxArgs struct {
	dst, x, bias, rows, cols GPVirtual
	// ptrs are the row pointers the general row loop advances.
	ptrs     []GPVirtual
	withBias bool
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
	sa := softmaxLoadArgs(withBias)
	a.preload(append([]string{"negInf"}, elemExpConsts...)...)
	lEnd := a.label("end")
	a.smallRows(sa.cols, lEnd, func(slots []*elemChunk) { a.softmaxShortRows(sa, slots) })
	a.softmaxLongRows(sa)
	Label(lEnd)
	End()
}

// softmaxLoadArgs loads the arguments of Softmax, or of BiasSoftmax
// withBias.
func softmaxLoadArgs(withBias bool) *softmaxArgs {
	sa := &softmaxArgs{withBias: withBias}
	if withBias {
		sa.x = elemArg(Param("x").Base())
		sa.bias = elemArg(Param("bias").Base())
		sa.dst = sa.x
		sa.ptrs = []GPVirtual{sa.x}
	} else {
		sa.dst = elemArg(Param("dst").Base())
		sa.x = elemArg(Param("x").Base())
		sa.ptrs = []GPVirtual{sa.dst, sa.x}
	}
	sa.rows = elemArg(Param("rows"))
	sa.cols = elemArg(Param("cols"))
	return sa
}

// softmaxShortRows emits the softmax of short rows held in the fixed
// slots. It is software-pipelined: row i+1 is loaded before row i is
// stored, so that no load follows a masked store whose range covers it
// (in place, each row's store reaches into the next row).
func (a *ElemLevel) softmaxShortRows(sa *softmaxArgs, slots []*elemChunk) {
	fill := a.cr("negInf")
	rd := GP64()
	MOVQ(sa.x, rd)
	vs := make([]VecVirtual, len(slots))
	for i := range vs {
		vs[i] = a.v()
	}
	loadRow := func() {
		for i, c := range slots {
			v := c.loadFill(rd, fill)
			if sa.withBias {
				VADDPS(c.load(sa.bias), v, v) // −Inf + 0 in inactive lanes
			}
			VMOVUPS(v, vs[i])
		}
	}
	loadRow()
	lLoop, lLast := a.label("smallrow"), a.label("lastrow")
	Label(lLoop)
	es := a.softmaxSlots(slots, vs)
	store := func() {
		for i, c := range slots {
			c.store(es[i], sa.dst)
		}
	}
	DECQ(sa.rows)
	JZ(LabelRef(lLast))
	LEAQ(Mem{Base: rd, Index: sa.cols, Scale: 4}, rd)
	loadRow()
	store()
	LEAQ(Mem{Base: sa.dst, Index: sa.cols, Scale: 4}, sa.dst)
	JMP(LabelRef(lLoop))
	Label(lLast)
	store()
}

// softmaxSlots returns the softmax of the row held in the registers vs,
// which it leaves intact so that the next row can be loaded into them.
func (a *ElemLevel) softmaxSlots(slots []*elemChunk, vs []VecVirtual) []VecVirtual {
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
	return es
}

// softmaxLongRows emits the general softmax row loop: three passes over
// the row (max; exponentials stored in dst and summed; scaling of dst).
func (a *ElemLevel) softmaxLongRows(sa *softmaxArgs) {
	a.rows(sa.rows, sa.cols, sa.ptrs, func() {
		acc := a.copyc("negInf")
		fill := a.cr("negInf")
		a.loop(sa.cols, func(c *elemChunk) {
			v := c.loadFill(sa.x, fill)
			if sa.withBias {
				VADDPS(c.load(sa.bias), v, v) // −Inf + 0 in inactive lanes
			}
			VMAXPS(v, acc, acc)
		})
		m := a.hmax(acc)
		sum := a.v()
		VXORPS(sum, sum, sum)
		a.loop(sa.cols, func(c *elemChunk) {
			v := c.load(sa.x)
			if sa.withBias {
				VADDPS(c.load(sa.bias), v, v)
			}
			VSUBPS(m, v, v)
			e := a.exp(v)
			c.store(e, sa.dst)
			c.active(e)
			lo, hi := a.widen(e)
			VADDPD(lo, sum, sum)
			VADDPD(hi, sum, sum)
		})
		_, inv := a.recip64(a.hsum64(sum))
		a.loop(sa.cols, func(c *elemChunk) {
			lo, hi := a.widen(c.load(sa.dst))
			VMULPD(inv, lo, lo)
			VMULPD(inv, hi, hi)
			c.store(a.narrow(lo, hi), sa.dst)
		})
	})
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
