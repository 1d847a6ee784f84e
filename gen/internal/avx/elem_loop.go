package avx

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The loops of the elementwise kernels: one vector (a chunk) at a time,
// the tail loaded and stored under a mask or lane by lane, so that
// nothing outside a slice is touched.

// elemChunk is one step of a loop over a row: a whole vector, or the tail of
// fewer lanes under a mask.
type elemChunk struct {
	a    *ElemLevel
	j    GPVirtual // element index of lane 0; nil for a fixed slot at disp
	disp int       // byte offset of a fixed slot
	tail bool
	ym   VecVirtual    // AVX2 tail: all-ones lanes are active
	k    OpmaskVirtual // AVX-512 tail
}

func (c *elemChunk) at(base Register) Mem {
	if c.j == nil {
		return Mem{Base: base, Disp: c.disp}
	}
	return Mem{Base: base, Index: c.j, Scale: 4}
}

// load reads lanes from base[j:]; inactive tail lanes are zero.
func (c *elemChunk) load(base Register) VecVirtual {
	v := c.a.v()
	switch {
	case !c.tail:
		VMOVUPS(c.at(base), v)
	case c.a.is512:
		VMOVUPS_Z(c.at(base), c.k, v)
	default:
		VXORPS(v, v, v)
		c.a.loadLanes(v, c.ym, c.at(base))
	}
	return v
}

// loadFill reads like load but gives inactive tail lanes the value of fill.
func (c *elemChunk) loadFill(base Register, fill VecVirtual) VecVirtual {
	v := c.a.v()
	switch {
	case !c.tail:
		VMOVUPS(c.at(base), v)
	case c.a.is512:
		VMOVAPS(fill, v)
		VMOVUPS(c.at(base), c.k, v)
	default:
		VMOVUPS(fill, v)
		c.a.loadLanes(v, c.ym, c.at(base))
	}
	return v
}

func (c *elemChunk) store(v VecVirtual, base Register) {
	switch {
	case !c.tail:
		VMOVUPS(v, c.at(base))
	case c.a.is512:
		VMOVUPS(v, c.k, c.at(base))
	default:
		c.a.storeLanes(v, c.ym, c.at(base))
	}
}

// storeLanes stores the lanes of the YMM v whose mask lanes are set (a
// prefix) one float at a time, for the reasons loadLanes gives, and
// because a VMASKMOVPS store is slow on several AMD cores. Each step
// stores lane 0 and rotates the next lane into its place. Only tails go
// through here: at most 7 floats, once per row or array.
func (a *ElemLevel) storeLanes(v, mask VecVirtual, dst Mem) {
	lLoop, lDone := a.label("lanes"), a.label("lanesdone")
	bits, p := GP32(), GP64()
	VMOVMSKPS(mask, bits)
	LEAQ(dst, p)
	w, rot := YMM(), YMM()
	VMOVUPS(v, w)
	VMOVUPS(a.rotTable(), rot)
	TESTL(bits, bits)
	JZ(LabelRef(lDone))
	Label(lLoop)
	VMOVSS(w.AsX(), Mem{Base: p})
	ADDQ(U8(4), p)
	VPERMD(w, rot, w)
	SHRL(U8(1), bits)
	JNZ(LabelRef(lLoop))
	Label(lDone)
}

// loadLanes loads the lanes of src whose mask lanes are set (a prefix)
// into v one float at a time, last first, each step moving the lanes
// loaded so far up by one; the other lanes keep v's values if v is
// uniform. VMASKMOVPS would do it in one instruction on hardware, which
// suppresses faults on masked-off lanes, but qemu's emulation faults on
// them at the end of a mapping, and CI runs the AVX2 level under qemu.
func (a *ElemLevel) loadLanes(v, mask VecVirtual, src Mem) {
	lLoop, lDone := a.label("ld"), a.label("lddone")
	bits, idx, p := GP32(), GP32(), GP64()
	VMOVMSKPS(mask, bits)
	LEAQ(src, p)
	rot, b := YMM(), YMM()
	VMOVUPS(a.rotUpTable(), rot)
	TESTL(bits, bits)
	JZ(LabelRef(lDone))
	Label(lLoop)
	BSRL(bits, idx)
	VBROADCASTSS(Mem{Base: p, Index: idx.As64(), Scale: 4}, b)
	VPERMD(v, rot, v)
	VBLENDPS(U8(1), b, v, v)
	BTRL(idx, bits)
	TESTL(bits, bits) // BTR leaves ZF undefined
	JNZ(LabelRef(lLoop))
	Label(lDone)
}

// rotUpTable is the VPERMD index that moves lane i to lane i+1.
func (a *ElemLevel) rotUpTable() Mem {
	if m, ok := a.consts["rotup"]; ok {
		return m
	}
	m := GLOBL("rotup", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(uint32((i+7)%8)))
	}
	a.consts["rotup"] = m
	return m
}

// rotTable is the VPERMD index that moves lane i+1 to lane i.
func (a *ElemLevel) rotTable() Mem {
	if m, ok := a.consts["rot"]; ok {
		return m
	}
	m := GLOBL("rot", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(uint32((i+1)%8)))
	}
	a.consts["rot"] = m
	return m
}

// active clears the inactive tail lanes of v in place.
func (c *elemChunk) active(v VecVirtual) {
	switch {
	case !c.tail:
	case c.a.is512:
		VMOVAPS_Z(v, c.k, v)
	default:
		VANDPS(c.ym, v, v)
	}
}

// loop emits a loop over elements 0..n-1 of a row: body runs for each
// whole vector and, if n is not a multiple of the width, once more for the
// tail under a mask. n is not modified.
func (a *ElemLevel) loop(n GPVirtual, body func(c *elemChunk)) { a.loopTail(n, body, true) }

// loopTail is loop, with the tail left out when tail is false: the
// elements past the last whole vector are then not visited.
func (a *ElemLevel) loopTail(n GPVirtual, body func(c *elemChunk), tail bool) {
	lLoop, lTail, lDone := a.label("loop"), a.label("tail"), a.label("done")
	j, rem := GP64(), GP64()
	XORQ(j, j)
	Label(lLoop)
	MOVQ(n, rem)
	SUBQ(j, rem)
	CMPQ(rem, Imm(uint64(a.Lanes)))
	JLT(LabelRef(lTail))
	body(&elemChunk{a: a, j: j})
	ADDQ(Imm(uint64(a.Lanes)), j)
	JMP(LabelRef(lLoop))

	Label(lTail)
	if !tail {
		return
	}
	TESTQ(rem, rem)
	JZ(LabelRef(lDone))
	c := &elemChunk{a: a, j: j, tail: true}
	tbl := GP64()
	if a.is512 {
		LEAQ(a.kmaskTable(), tbl)
		c.k = K()
		KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, c.k)
	} else {
		// Lanes 0..rem-1 of the mask come from the ones half of the table.
		LEAQ(a.ymaskTable(), tbl)
		NEGQ(rem)
		c.ym = YMM()
		VMOVUPS(Mem{Base: tbl, Index: rem, Scale: 4, Disp: 32}, c.ym)
	}
	body(c)
	Label(lDone)
}

// ymaskTable is eight all-ones lanes followed by eight zero lanes: the
// AVX2 tail mask of r lanes starts r lanes before the zeros.
func (a *ElemLevel) ymaskTable() Mem {
	if m, ok := a.consts["ymask"]; ok {
		return m
	}
	m := GLOBL("ymask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		bits := uint32(0)
		if i < 8 {
			bits = 0xffffffff
		}
		DATA(4*i, U32(bits))
	}
	a.consts["ymask"] = m
	return m
}

// kmaskTable holds (1<<r)−1 as 16-bit masks for r = 0..16, so that the
// AVX-512 tail mask is one load (no BMI2 needed).
func (a *ElemLevel) kmaskTable() Mem {
	if m, ok := a.consts["kmask"]; ok {
		return m
	}
	m := GLOBL("kmask", RODATA|NOPTR)
	for i := 0; i <= 16; i++ {
		DATA(2*i, U16(uint16(1<<i-1)))
	}
	a.consts["kmask"] = m
	return m
}
