package avx

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The int8 product C = A·W of kernels.DenseInt8 with its epilogue
// y = float32(acc − zero·colSum)·(scale·wscale) + bias. A holds uint8
// codes (rows at stride lda, a multiple of 4); W is Int8Weights.packed:
// group g of 4 inputs is a row of np columns of 4 bytes, so one 64-byte
// load holds 16 columns × 4 inputs, the operand VPDPBUSD wants.
//
// Three variants:
//   - VNNI512: VPDPBUSD on ZMM (AVX512-VNNI), tiles of up to 4 rows × 6
//     vectors (96 columns; one row takes 8, 128 columns) over the full
//     16-column vectors, then the last n mod 16 columns from the tail
//     layout (Int8Weights.tail, tailTile), 4 columns × 4 groups a vector;
//   - VNNI256: VPDPBUSD on YMM with the VEX encoding (AVX-VNNI), tiles
//     of up to 4 rows × 16 columns;
//   - Madd256 (AVX2 without VNNI): the weights widened to int16
//     (VPMOVSXBW), the row's 4 codes broadcast as int16, VPMADDWD, and
//     the lane pairs added once at the end. Tiles of up to 2 rows × 16
//     columns.
//
// In every variant a single row first lists its groups of 4 codes that are
// not all zero (scan: VPCOMPRESSD on ZMM, a table of each byte's set bits
// on YMM) and, when at least 1/8 are zero, sums over the list only
// (sparse): zero codes add nothing to the exact sums, and an image's
// background or a run of ReLU's zeros then costs no weight lines (the
// bound of one prediction with VNNI) and no multiplies (without).
//
// Short tiles keep several sets of sums over alternate groups of inputs
// (added at the end, exactly), so that one row — a single prediction —
// still has enough independent dot products in flight to cover the
// instruction's latency.

const (
	int8VNNI512 = iota
	int8VNNI256
	int8Madd256
)

type int8Dense struct {
	kind  int
	mr    int
	table Mem // opmasks (VNNI512)
	perm  Mem // VPERMD indices gathering the tail's column sums (VNNI512)
	stack Mem // the tail's sums (256-bit variants)
	// GP registers live across the tiles.
	i0, j0 Register
	// pf walks the lines of the caller's prefetch region, up to pfEnd.
	pf, pfEnd Register
	// nnz is the number of groups of a one-row tile's codes that are not
	// all zero, listed in nz, or −1 to run the tile dense.
	nnz  Register
	iota Mem // 0, 1, …, 15 (VNNI512)
	// bits holds, for each 8-bit mask, the indices of its set bits in
	// ascending order, a byte each (256-bit variants).
	bits Mem
}

func (d *int8Dense) wide() bool { return d.kind == int8VNNI512 }

// sets is the number of sets of sums a tile of r rows keeps.
func (d *int8Dense) sets(r int) int {
	switch d.kind {
	case int8VNNI512:
		if r <= 2 {
			return 2
		}
	case int8VNNI256:
		switch r {
		case 1:
			return 4
		case 2, 3:
			return 2
		}
	}
	return 1
}

// GenerateDenseVNNI emits Int8DenseVNNI<Suffix>: AVX512-VNNI on the wide
// level, AVX-VNNI (VEX) on the AVX2 level.
func (l Int8Level) GenerateDenseVNNI() {
	d := &int8Dense{kind: int8VNNI256, mr: 4}
	if l.Wide {
		d.kind = int8VNNI512
		d.table = int8MaskTable()
		d.perm = GLOBL("int8tailperm", RODATA|NOPTR)
		for l := range 16 {
			DATA(4*l, U32(4*(l%4)))
		}
		d.iota = GLOBL("int8iota", RODATA|NOPTR)
		for l := range 16 {
			DATA(4*l, U32(l))
		}
	}
	if !l.Wide {
		d.bits = int8BitsTable()
	}
	d.emit("Int8DenseVNNI" + l.Suffix)
}

// int8BitsTable is the list of set bits of every byte value (Int8Dense's
// bits), emitted once per file.
func int8BitsTable() Mem {
	if int8Bits == nil {
		t := GLOBL("int8bits", RODATA|NOPTR)
		for m := range 256 {
			n := 0
			for b := range 8 {
				if m&(1<<b) != 0 {
					DATA(8*m+n, U8(b))
					n++
				}
			}
			for ; n < 8; n++ {
				DATA(8*m+n, U8(0))
			}
		}
		int8Bits = &t
	}
	return *int8Bits
}

var int8Bits *Mem

// GenerateDenseMadd emits Int8Dense<Suffix> for AVX2 without VNNI.
func (l Int8Level) GenerateDenseMadd() {
	if l.Wide {
		panic("int8: the VPMADDWD kernel is the AVX2 level's")
	}
	d := &int8Dense{kind: int8Madd256, mr: 2, bits: int8BitsTable()}
	d.emit("Int8Dense" + l.Suffix)
}

func (d *int8Dense) emit(name string) {
	TEXT(name, NOSPLIT, "func(m, kg int, a []uint8, lda int, scale []float32, zero []int32, w []int8, np int, colSum []int32, wscale []float32, bias []float32, y []float32, ldy, n int, pf []float32, tail []int8, nz []int32)")
	Pragma("noescape")
	how := map[int]string{
		int8VNNI512: "VPDPBUSD on ZMM (AVX512-VNNI), tiles of up to 4 rows × 96 columns",
		int8VNNI256: "VEX VPDPBUSD on YMM (AVX-VNNI, emitted as bytes), tiles of up to 4 rows × 16 columns",
		int8Madd256: "VPMOVSXBW/VPMADDWD (AVX2, no VNNI; never saturates), tiles of up to 2 rows × 16 columns",
	}[d.kind]
	Doc(
		name+" computes, for m rows of uint8 codes a (stride lda, a multiple of 4) and the packed",
		"int8 weights w (kg groups of 4 inputs, each a row of np columns × 4 bytes), the exact int32",
		"sums acc and y[i][j] = float32(acc − zero[i]·colSum[j])·(scale[i]·wscale[j]) + bias[j],",
		"multiply then add, never fused, for the n columns. Go reference: refInt8Dense",
		"(kernels/ref_int8.go), bit for bit. "+how+".",
		"Assembly because the Go compiler emits no integer dot-product instructions.",
		"Preconditions: m, kg, n ≥ 1; a holds (m−1)·lda + 4·kg bytes; w holds kg·np·4 bytes,",
		"np a multiple of 16 ≥ n, zero past n; scale, zero ≥ m values; colSum, wscale, bias ≥ n;",
		"y ≥ (m−1)·ldy + n. Only the n columns of y's m rows are written.",
		tailDoc(d.kind),
		"Full-height tiles prefetch one line of pf (the caller's next rows, which may be empty)",
		"per group of inputs, so that the next block's stream from memory overlaps this",
		"block's arithmetic; prefetches never fault, and nothing of pf is read otherwise.",
		sparseDoc,
	)
	if !d.wide() {
		d.stack = AllocLocal(4 * 16 * d.mr)
	}
	d.i0 = GP64()
	XORQ(d.i0, d.i0)
	d.pf = Load(Param("pf").Base(), GP64())
	d.pfEnd = Load(Param("pf").Len(), GP64())
	SHLQ(U8(2), d.pfEnd)
	ADDQ(d.pf, d.pfEnd)
	rowLoop, done := int8NewLabel("rows"), int8NewLabel("end")
	Label(rowLoop)
	rem := Load(Param("m"), GP64())
	SUBQ(d.i0, rem)
	labels := make([]string, d.mr+1)
	for r := 1; r <= d.mr; r++ {
		labels[r] = int8NewLabel(fmt.Sprintf("r%d", r))
	}
	CMPQ(rem, U32(d.mr))
	JGE(LabelRef(labels[d.mr]))
	for r := 1; r < d.mr; r++ {
		CMPQ(rem, U32(r))
		JE(LabelRef(labels[r]))
	}
	for r := d.mr; r >= 1; r-- {
		Label(labels[r])
		d.rowBlock(r)
		if r == d.mr {
			ADDQ(U32(r), d.i0)
			CMPQ(d.i0, Load(Param("m"), GP64()))
			JL(LabelRef(rowLoop))
		}
		JMP(LabelRef(done))
	}
	Label(done)
	End()
}

// rowBlock emits the column loop over r rows from i0.
func (d *int8Dense) rowBlock(r int) {
	if r == 1 {
		d.scan()
	}
	d.j0 = GP64()
	XORQ(d.j0, d.j0)
	col, done := int8NewLabel("col"), int8NewLabel("coldone")
	Label(col)
	rem := Load(Param("n"), GP64())
	if d.wide() {
		// The full vectors only: the columns from n &^ 15 on come from
		// the tail (tailTile).
		ANDQ(I8(-16), rem)
	}
	SUBQ(d.j0, rem)
	if d.wide() {
		// One row takes up to 8 vectors (128 columns): the tutorial's
		// 100 units in one pass, so the weights stream through in order
		// (a group's np columns are contiguous) instead of in strided
		// slices, which the prefetchers follow far worse. More rows take
		// 6 (the tutorial's 96 full columns): 24 sums, 6 weight vectors,
		// the broadcast and a spare fill the 32 registers, and each
		// broadcast feeds 6 VPDPBUSD (4 vectors were 14% slower on 12 000
		// samples, bench/README.md).
		maxC := 6
		if r == 1 {
			maxC = 8
		}
		TESTQ(rem, rem)
		JLE(LabelRef(done))
		cl := make([]string, maxC+1)
		for c := 1; c <= maxC; c++ {
			cl[c] = int8NewLabel(fmt.Sprintf("r%dc", r))
		}
		for c := maxC; c >= 2; c-- {
			CMPQ(rem, U32(16*(c-1)))
			JG(LabelRef(cl[c]))
		}
		for c := 1; c <= maxC; c++ {
			Label(cl[c])
			// Live columns of the last vector: min(rem, 16·maxC) − 16·(c−1).
			if c == maxC {
				capC := GP64()
				MOVQ(U32(16*maxC), capC)
				CMPQ(rem, capC)
				CMOVQGT(capC, rem)
			}
			if c > 1 {
				SUBQ(U32(16*(c-1)), rem)
			}
			kk, tbl := K(), GP64()
			LEAQ(d.table, tbl)
			KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, kk)
			d.tile(r, c, kk, nil)
			if c == maxC {
				ADDQ(U32(16*maxC), d.j0)
				JMP(LabelRef(col))
			} else {
				JMP(LabelRef(done))
			}
		}
	} else {
		tail := int8NewLabel("coltail")
		CMPQ(rem, U32(16))
		JL(LabelRef(tail))
		d.tile(r, 2, nil, nil)
		ADDQ(U32(16), d.j0)
		JMP(LabelRef(col))
		Label(tail)
		TESTQ(rem, rem)
		JLE(LabelRef(done))
		d.tile(r, 2, nil, rem)
	}
	Label(done)
	if d.wide() {
		d.tailTiles(r)
	}
}

// tailDoc is the line of the generated function's doc about the tail
// columns.
func tailDoc(kind int) string {
	if kind == int8VNNI512 {
		return "The last n mod 16 columns come from tail (kernels.Int8Weights.tail), 4 columns × 4 groups a vector; a then holds (m−1)·lda + 16·⌈kg/4⌉ bytes."
	}
	return "tail is not read."
}

// tailTiles emits, for the r rows from i0, the columns n &^ 15 … n−1 from
// the tail layout: one variant per number of tail vectors tv (1–4), chosen
// at run time.
func (d *int8Dense) tailTiles(r int) {
	done := int8NewLabel("taildone")
	nt := Load(Param("n"), GP64())
	ANDQ(U8(15), nt)
	JZ(LabelRef(done))
	lbl := make([]string, 5)
	for tv := 1; tv <= 4; tv++ {
		lbl[tv] = int8NewLabel(fmt.Sprintf("r%dtv%d", r, tv))
	}
	for tv := 1; tv < 4; tv++ {
		CMPQ(nt, U32(4*tv))
		JLE(LabelRef(lbl[tv]))
	}
	for tv := 4; tv >= 1; tv-- {
		Label(lbl[tv])
		d.tailTile(r, tv)
		if tv > 1 {
			JMP(LabelRef(done))
		}
	}
	Label(done)
}

// tailTile emits the r-row tile of the tail's tv vectors: sums over the
// blocks of 4 groups (a 16-byte broadcast of the row's codes meets each
// vector), each column's 4 lanes added, the columns gathered into one
// vector, then the epilogue under the mask of the nt live columns.
func (d *int8Dense) tailTile(r, tv int) {
	v := &vecs{wide: true}
	// Enough independent sums to cover VPDPBUSD's latency: a block is one
	// instruction per row and vector.
	s := min(4, ceilDiv(8, r*tv))
	acc := zeroedSums(v, s, r, tv)
	nacc := v.next
	wv := make([]VecPhysical, tv)
	for t := range tv {
		wv[t] = v.get()
	}
	bc := v.get()

	lda := Load(Param("lda"), GP64())
	ap := Load(Param("a").Base(), GP64())
	off := GP64()
	MOVQ(lda, off)
	IMULQ(d.i0, off)
	ADDQ(off, ap)
	var lda3 Register
	if r == 4 {
		lda3 = GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	}
	tp := Load(Param("tail").Base(), GP64())
	cnt := Load(Param("kg"), GP64())
	ADDQ(U8(3), cnt)
	SHRQ(U8(2), cnt) // blocks of 4 groups

	block := func(si int) {
		if r == 1 {
			VBROADCASTI32X4(int8AAddr(ap, lda, lda3, 0, 16*si), bc)
			for t := range tv {
				VPDPBUSD(Mem{Base: tp, Disp: 64 * (tv*si + t)}, bc, acc[si][0][t])
			}
			return
		}
		for t := range tv {
			VMOVDQU32(Mem{Base: tp, Disp: 64 * (tv*si + t)}, wv[t])
		}
		for ri := range r {
			VBROADCASTI32X4(int8AAddr(ap, lda, lda3, ri, 16*si), bc)
			for t := range tv {
				VPDPBUSD(wv[t], bc, acc[si][ri][t])
			}
		}
	}
	setLoop("tk", s, cnt, block, func(n int) {
		ADDQ(U32(16*n), ap)
		ADDQ(U32(64*tv*n), tp)
	})

	// Lane l of vector t holds column 4t + l/4's sum over the groups
	// ≡ l mod 4: add each column's 4 lanes, then gather the columns of
	// every vector into one (VPERMD puts the sums of lanes 0, 4, 8, 12 in
	// each quarter; a merge under the mask of quarter t keeps vector t's).
	u := v.get()
	idx := v.get()
	VMOVDQU32(d.perm, idx)
	kq, q := K(), GP32()
	sums := make([][]VecPhysical, r)
	for ri := range r {
		for t := range tv {
			a := acc[0][ri][t]
			for si := 1; si < s; si++ {
				VPADDD(acc[si][ri][t], a, a)
			}
			VPSHUFD(U8(0xB1), a, u)
			VPADDD(u, a, a)
			VPSHUFD(U8(0x4E), a, u)
			VPADDD(u, a, a)
			if t == 0 {
				VPERMD(a, idx, a)
				continue
			}
			VPERMD(a, idx, u)
			MOVL(U32(0xF<<(4*t)), q)
			KMOVW(q, kq)
			VMOVDQA32(u, kq, acc[0][ri][0])
		}
		sums[ri] = []VecPhysical{acc[0][ri][0]}
	}
	v.next = nacc

	// The epilogue at column n &^ 15, under the mask of the nt columns.
	n := Load(Param("n"), GP64())
	d.j0 = GP64()
	MOVQ(n, d.j0)
	ANDQ(I8(-16), d.j0)
	SUBQ(d.j0, n)
	kk, tbl := K(), GP64()
	LEAQ(d.table, tbl)
	KMOVW(Mem{Base: tbl, Index: n, Scale: 2}, kk)
	d.epilogue(v, r, 1, sums, kk, nil)
}

// int8AAddr addresses the 4 codes of row r at byte offset disp from the row
// block's pointer.
func int8AAddr(ap, lda, lda3 Register, r, disp int) Mem {
	switch r {
	case 0:
		return Mem{Base: ap, Disp: disp}
	case 1:
		return Mem{Base: ap, Index: lda, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: ap, Index: lda, Scale: 2, Disp: disp}
	}
	return Mem{Base: ap, Index: lda3, Scale: 1, Disp: disp}
}

// tile emits one r-row tile of nv vectors at columns j0: the sums over
// all kg groups, then the epilogue. VNNI512 masks its last vector with
// kk; the 256-bit variants compute 16 columns and, when live is not nil
// (1..15 columns left), write live of them one at a time.
func (d *int8Dense) tile(r, nv int, kk Op, live Register) {
	v := &vecs{wide: d.wide()}
	s := d.sets(r)
	// Sums: acc[set][row][vector]. Madd256 holds 4 vectors of 4 columns
	// (pairs of lanes) per 16 columns.
	na := nv
	if d.kind == int8Madd256 {
		na = 4
	}
	acc := zeroedSums(v, s, r, na)
	nacc := v.next
	wv := make([]VecPhysical, na)
	for c := range na {
		wv[c] = v.get()
	}
	bc, tmp := v.get(), v.get()

	lda := Load(Param("lda"), GP64())
	ap := Load(Param("a").Base(), GP64())
	off := GP64()
	MOVQ(lda, off)
	IMULQ(d.i0, off)
	ADDQ(off, ap)
	var lda3 Register
	if r == 4 {
		lda3 = GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	}
	wp := Load(Param("w").Base(), GP64())
	LEAQ(Mem{Base: wp, Index: d.j0, Scale: 4}, wp)
	npb := Load(Param("np"), GP64())
	SHLQ(U8(2), npb)
	cnt := Load(Param("kg"), GP64())

	// groupAt adds one group of inputs to set si: the rows' 4 codes at
	// code(ri), the weights' row at wb, broadcasts through b.
	groupAt := func(si int, code func(ri int) Mem, wb Register, b VecPhysical) {
		switch d.kind {
		case int8VNNI512:
			if r == 1 {
				VPBROADCASTD(code(0), b)
				for c := range nv {
					VPDPBUSD(Mem{Base: wb, Disp: 64 * c}, b, acc[si][0][c])
				}
				break
			}
			for c := range nv {
				VMOVDQU32(Mem{Base: wb, Disp: 64 * c}, wv[c])
			}
			for ri := range r {
				VPBROADCASTD(code(ri), b)
				for c := range nv {
					VPDPBUSD(wv[c], b, acc[si][ri][c])
				}
			}
		case int8VNNI256:
			for c := range nv {
				VMOVDQU(Mem{Base: wb, Disp: 32 * c}, wv[c])
			}
			for ri := range r {
				VPBROADCASTD(code(ri), b)
				for c := range nv {
					vpdpbusdVEX(acc[si][ri][c], b, wv[c])
				}
			}
		case int8Madd256:
			// 16 bytes = 4 columns × 4 inputs → 16 int16.
			for c := range na {
				VPMOVSXBW(Mem{Base: wb, Disp: 16 * c}, wv[c])
			}
			for ri := range r {
				// The row's 4 codes, zero-extended, four times.
				VPBROADCASTD(code(ri), xmm(b))
				VPMOVZXBW(xmm(b), b)
				for c := range na {
					// Each int32 lane gets a·w + a'·w', at most
					// 2·255·127 = 64770 in magnitude: VPMADDWD
					// saturates only for two products of −32768·−32768,
					// which uint8·int8 cannot reach (VPMADDUBSW would
					// saturate its int16 sums: 2·255·127 > 32767). The
					// lanes then sum at most 16384 groups:
					// 16384·64770 < 2³¹, and the wrap-around int32
					// arithmetic would be exact mod 2³² anyway.
					VPMADDWD(wv[c], b, tmp)
					VPADDD(tmp, acc[si][ri][c], acc[si][ri][c])
				}
			}
		}
	}
	group := func(si, disp int) {
		groupAt(si, func(ri int) Mem { return int8AAddr(ap, lda, lda3, ri, disp) }, wp, bc)
		ADDQ(npb, wp)
	}
	// A full-height tile runs long enough to hide a line from memory per
	// group: it prefetches the next one of pf, and stays on pf's last
	// line once there. The non-temporal hint, as the quantizer reads each
	// input line once (PREFETCHT0 measured the same, 4.86 against 4.77 ms
	// on 12 000 rows of the 784→100 layer, nine alternated rounds).
	prefetch := func() {
		if r != d.mr {
			return
		}
		hintNext(PREFETCHNTA, d.pf, d.pfEnd)
	}
	dense := func() {
		setLoop("k", s, cnt, func(si int) { group(si, 4*si) }, func(n int) {
			prefetch()
			ADDQ(U32(4*n), ap)
		})
	}
	if r == 1 {
		denseLbl, after := int8NewLabel("dense"), int8NewLabel("summed")
		TESTQ(d.nnz, d.nnz)
		JS(LabelRef(denseLbl))
		// VNNI512's one-row group leaves tmp free for a second broadcast;
		// Madd256 needs it, and a reused broadcast register only renames.
		b2 := bc
		if d.kind == int8VNNI512 {
			b2 = tmp
		}
		d.sparse(s, ap, wp, npb, func(si int, code Mem, wb Register) {
			groupAt(si, func(int) Mem { return code }, wb, []VecPhysical{bc, b2}[si%2])
		})
		JMP(LabelRef(after))
		Label(denseLbl)
		dense()
		Label(after)
	} else {
		dense()
	}
	for si := 1; si < s; si++ {
		for ri := range r {
			for c := range na {
				VPADDD(acc[si][ri][c], acc[0][ri][c], acc[0][ri][c])
			}
		}
	}
	sums := acc[0]
	if d.kind == int8Madd256 {
		// [c0 c0 c1 c1 | c2 c2 c3 c3] and the next four columns →
		// VPHADDD [c0 c1 c4 c5 | c2 c3 c6 c7] → VPERMQ 0,2,1,3 → c0..c7.
		for ri := range r {
			a := sums[ri]
			VPHADDD(a[1], a[0], a[0])
			VPERMQ(U8(0xD8), a[0], a[0])
			VPHADDD(a[3], a[2], a[2])
			VPERMQ(U8(0xD8), a[2], a[2])
			sums[ri] = []VecPhysical{a[0], a[2]}
		}
	}
	v.next = nacc
	d.epilogue(v, r, nv, sums, kk, live)
}

// epilogue writes y = float32(acc − zero·colSum)·(scale·wscale) + bias
// for the tile's rows.
func (d *int8Dense) epilogue(v *vecs, r, nv int, sums [][]VecPhysical, kk Op, live Register) {
	zr, sr, tmp := v.get(), v.get(), v.get()
	i0 := d.i0
	zp := Load(Param("zero").Base(), GP64())
	LEAQ(Mem{Base: zp, Index: i0, Scale: 4}, zp)
	sp := Load(Param("scale").Base(), GP64())
	LEAQ(Mem{Base: sp, Index: i0, Scale: 4}, sp)
	col := func(name string) Register {
		p := Load(Param(name).Base(), GP64())
		LEAQ(Mem{Base: p, Index: d.j0, Scale: 4}, p)
		return p
	}
	cs, ws, bs := col("colSum"), col("wscale"), col("bias")
	ldyb := Load(Param("ldy"), GP64())
	SHLQ(U8(2), ldyb)
	yp := GP64()
	MOVQ(ldyb, yp)
	IMULQ(i0, yp)
	ADDQ(Load(Param("y").Base(), GP64()), yp)
	LEAQ(Mem{Base: yp, Index: d.j0, Scale: 4}, yp)

	if live != nil {
		d.scalarTail(r, sums, zp, sp, cs, ws, bs, yp, ldyb, live)
		return
	}
	vb := 32
	if d.wide() {
		vb = 64
	}
	for ri := range r {
		VPBROADCASTD(Mem{Base: zp, Disp: 4 * ri}, zr)
		VBROADCASTSS(Mem{Base: sp, Disp: 4 * ri}, sr)
		for c := range nv {
			a := sums[ri][c]
			masked := kk != nil && c == nv-1
			if masked {
				// Zero-masked loads: lanes past n are never read.
				VPMULLD_Z(Mem{Base: cs, Disp: vb * c}, zr, kk, tmp)
			} else {
				VPMULLD(Mem{Base: cs, Disp: vb * c}, zr, tmp)
			}
			VPSUBD(tmp, a, a) // acc − zero·colSum, wrapping as Go's int32
			VCVTDQ2PS(a, a)
			if masked {
				VMULPS_Z(Mem{Base: ws, Disp: vb * c}, sr, kk, tmp)
			} else {
				VMULPS(Mem{Base: ws, Disp: vb * c}, sr, tmp) // c = scale·wscale
			}
			VMULPS(tmp, a, a) // t·c, rounded
			if masked {
				VADDPS_Z(Mem{Base: bs, Disp: vb * c}, a, kk, a)
				VMOVUPS(a, kk, Mem{Base: yp, Disp: vb * c})
			} else {
				VADDPS(Mem{Base: bs, Disp: vb * c}, a, a) // + bias, rounded
				VMOVUPS(a, Mem{Base: yp, Disp: vb * c})
			}
		}
		if ri < r-1 {
			ADDQ(ldyb, yp)
		}
	}
}

// scalarTail finishes the last 1..15 columns of 256-bit tiles one value
// at a time, with the scalar forms of the same instructions, so that
// nothing past column n of colSum, wscale, bias or y is touched.
func (d *int8Dense) scalarTail(r int, sums [][]VecPhysical, zp, sp, cs, ws, bs, yp, ldyb, live Register) {
	for ri := range r {
		VMOVDQU(sums[ri][0], Mem{Base: d.stack.Base, Disp: d.stack.Disp + 64*ri})
		VMOVDQU(sums[ri][1], Mem{Base: d.stack.Base, Disp: d.stack.Disp + 64*ri + 32})
	}
	xt, xc, xs := X13, X14, X15
	for ri := range r {
		zr, j, t, u := GP32(), GP64(), GP32(), GP32()
		MOVL(Mem{Base: zp, Disp: 4 * ri}, zr)
		VMOVSS(Mem{Base: sp, Disp: 4 * ri}, xs)
		XORQ(j, j)
		lp := int8NewLabel("tailcol")
		Label(lp)
		MOVL(Mem{Base: d.stack.Base, Index: j, Scale: 4, Disp: d.stack.Disp + 64*ri}, t)
		MOVL(Mem{Base: cs, Index: j, Scale: 4}, u)
		IMULL(zr, u)
		SUBL(u, t)
		VCVTSI2SSL(t, xt, xt)
		VMULSS(Mem{Base: ws, Index: j, Scale: 4}, xs, xc)
		VMULSS(xc, xt, xt)
		VADDSS(Mem{Base: bs, Index: j, Scale: 4}, xt, xt)
		VMOVSS(xt, Mem{Base: yp, Index: j, Scale: 4})
		INCQ(j)
		CMPQ(j, live)
		JL(LabelRef(lp))
		if ri < r-1 {
			ADDQ(ldyb, yp)
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// zeroedSums hands out sets×rows×n cleared registers for a tile's sums,
// indexed [set][row][vector].
func zeroedSums(v *vecs, sets, rows, n int) [][][]VecPhysical {
	acc := make([][][]VecPhysical, sets)
	for si := range acc {
		acc[si] = make([][]VecPhysical, rows)
		for ri := range rows {
			acc[si][ri] = make([]VecPhysical, n)
			for c := range n {
				acc[si][ri][c] = v.get()
				zeroVec(acc[si][ri][c])
			}
		}
	}
	return acc
}

// setLoop emits a tile's loop over cnt steps (groups of inputs, or
// blocks of 4 groups): s steps a turn, one per set of sums, while cnt ≥ s,
// then one at a time. step(si) emits step si of a turn; advance(n) moves
// the pointers past n steps.
func setLoop(name string, s int, cnt Register, step func(si int), advance func(n int)) {
	done := int8NewLabel(name + "done")
	if s > 1 {
		turn, rest := int8NewLabel(name+"set"), int8NewLabel(name+"rest")
		Label(turn)
		CMPQ(cnt, U32(s))
		JL(LabelRef(rest))
		for si := range s {
			step(si)
		}
		advance(s)
		SUBQ(U32(s), cnt)
		JMP(LabelRef(turn))
		Label(rest)
		TESTQ(cnt, cnt)
		JZ(LabelRef(done))
	}
	one := int8NewLabel(name + "1")
	Label(one)
	step(0)
	advance(1)
	DECQ(cnt)
	JNZ(LabelRef(one))
	Label(done)
}

// zeroVec clears a vector register: the VEX VPXOR reaches only the
// first 16, the EVEX VPXORD all 32.
func zeroVec(r VecPhysical) {
	if r.PhysicalIndex() >= 16 {
		VPXORD(r, r, r)
		return
	}
	VPXOR(xmm(r), xmm(r), xmm(r))
}

// sparseDoc is the line of the generated functions' doc about nz.
const sparseDoc = "A one-row tile skips the groups of 4 codes that are all zero (as ReLU outputs and image backgrounds make them), which add nothing to the exact sums: when nz holds kg+16 values or more, the row's other groups are listed there first, and used when they are at most 7/8 of kg; an empty nz runs every tile dense."

// scan lists, for the row at i0, the groups of 4 codes that are not all
// zero in nz and counts them in d.nnz; it sets d.nnz to −1 (the tiles
// then run dense) when nz is empty or more than 7/8 of the groups are
// listed, as the list's loads and address arithmetic would then cost
// more than the weight lines they save.
func (d *int8Dense) scan() {
	d.nnz = GP64()
	done := int8NewLabel("scandone")
	MOVQ(I32(-1), d.nnz)
	nzLen := Load(Param("nz").Len(), GP64())
	TESTQ(nzLen, nzLen)
	JZ(LabelRef(done))
	XORQ(d.nnz, d.nnz)
	ap := Load(Param("a").Base(), GP64())
	off := Load(Param("lda"), GP64())
	IMULQ(d.i0, off)
	ADDQ(off, ap)
	nzp := Load(Param("nz").Base(), GP64())
	kg := Load(Param("kg"), GP64())
	if d.wide() {
		d.scan512(ap, nzp, kg)
	} else {
		d.scan256(ap, nzp, kg)
	}
	// Dense when 8·nnz > 7·kg.
	t := GP64()
	MOVQ(d.nnz, t)
	SHLQ(U8(3), t)
	IMUL3Q(U32(7), kg, kg)
	CMPQ(t, kg)
	JLE(LabelRef(done))
	MOVQ(I32(-1), d.nnz)
	Label(done)
}

// scan256 lists the row's groups that are not all zero, 8 at a time: a
// compare with zero, its sign bits, and the bits table's indices of the
// others, widened and offset; then the last kg mod 8 one by one.
func (d *int8Dense) scan256(ap, nzp, kg Register) {
	g, rem, m := GP64(), GP64(), GP64()
	XORQ(g, g)
	zero, base, eight, codes, list := Y0, Y1, Y2, Y3, Y4
	VPXOR(zero, zero, zero)
	VPXOR(base, base, base)
	MOVL(U32(8), m.As32())
	VMOVD(m.As32(), X2)
	VPBROADCASTD(X2, eight)
	tbl := GP64()
	LEAQ(d.bits, tbl)
	loop, tail, tailLoop, skip, end := int8NewLabel("scan"), int8NewLabel("scantail"), int8NewLabel("scanone"), int8NewLabel("scanzero"), int8NewLabel("scanend")
	Label(loop)
	MOVQ(kg, rem)
	SUBQ(g, rem)
	CMPQ(rem, U32(8))
	JL(LabelRef(tail))
	VPCMPEQD(Mem{Base: ap, Index: g, Scale: 4}, zero, codes)
	VMOVMSKPS(codes, m.As32())
	XORL(U32(0xFF), m.As32())
	VPMOVZXBD(Mem{Base: tbl, Index: m, Scale: 8}, list)
	VPADDD(base, list, list)
	// All 8 lanes stored at the list's end (nz has room), nnz advanced
	// by the listed ones.
	VMOVDQU(list, Mem{Base: nzp, Index: d.nnz, Scale: 4})
	POPCNTL(m.As32(), m.As32())
	ADDQ(m, d.nnz)
	VPADDD(eight, base, base)
	ADDQ(U32(8), g)
	JMP(LabelRef(loop))
	Label(tail)
	Label(tailLoop)
	CMPQ(g, kg)
	JGE(LabelRef(end))
	MOVL(Mem{Base: ap, Index: g, Scale: 4}, m.As32())
	TESTL(m.As32(), m.As32())
	JZ(LabelRef(skip))
	MOVL(g.As32(), Mem{Base: nzp, Index: d.nnz, Scale: 4})
	INCQ(d.nnz)
	Label(skip)
	INCQ(g)
	JMP(LabelRef(tailLoop))
	Label(end)
}

// scan512 lists the row's groups that are not all zero, 16 at a time.
func (d *int8Dense) scan512(ap, nzp, kg Register) {
	g, rem, cnt := GP64(), GP64(), GP64()
	XORQ(g, g)
	idx, sixteen, codes, comp := Z0, Z1, Z2, Z3
	VMOVDQU32(d.iota, idx)
	MOVL(U32(16), cnt.As32())
	VMOVD(cnt.As32(), X1)
	VPBROADCASTD(X1, sixteen)
	k1 := K()
	// Compress the indices of the nonzero groups among 16, store all 16
	// lanes at the list's end (nz has room), and count them.
	list := func() {
		VPTESTMD(codes, codes, k1)
		VPCOMPRESSD_Z(idx, k1, comp)
		VMOVDQU32(comp, Mem{Base: nzp, Index: d.nnz, Scale: 4})
		KMOVW(k1, cnt.As32())
		POPCNTL(cnt.As32(), cnt.As32())
		ADDQ(cnt, d.nnz)
	}
	loop, tail, check := int8NewLabel("scan"), int8NewLabel("scantail"), int8NewLabel("scancheck")
	Label(loop)
	MOVQ(kg, rem)
	SUBQ(g, rem)
	CMPQ(rem, U32(16))
	JL(LabelRef(tail))
	VMOVDQU32(Mem{Base: ap, Index: g, Scale: 4}, codes)
	list()
	VPADDD(sixteen, idx, idx)
	ADDQ(U32(16), g)
	JMP(LabelRef(loop))
	Label(tail)
	TESTQ(rem, rem)
	JZ(LabelRef(check))
	km, tbl := K(), GP64()
	LEAQ(d.table, tbl)
	KMOVW(Mem{Base: tbl, Index: rem, Scale: 2}, km)
	VMOVDQU32_Z(Mem{Base: ap, Index: g, Scale: 4}, km, codes)
	list()
	Label(check)
}

// sparse emits a one-row tile's sums over the d.nnz groups listed in nz,
// the s sets of sums taking them in turn: step(si, code, wb) adds the
// group whose codes are at code and weights at wb to set si.
func (d *int8Dense) sparse(s int, ap, wp, npb Register, step func(si int, code Mem, wb Register)) {
	ip := Load(Param("nz").Base(), GP64())
	c := GP64()
	MOVQ(d.nnz, c)
	turn, rest, done := int8NewLabel("nzturn"), int8NewLabel("nzrest"), int8NewLabel("nzdone")
	// The tail columns' lines (VNNI512), which the dense loop's stream
	// brings in for the tail tile but a sparse walk does not: one a turn
	// (a row lists at least kg/8 groups, and the tail has kg/4 lines per
	// tail vector: enough for most rows).
	var tp, tEnd Register
	if d.wide() {
		tp = Load(Param("tail").Base(), GP64())
		tEnd = Load(Param("tail").Len(), GP64())
		// No tail: the hints fall on the weights' first line rather than
		// on a nil slice's address, whose page walk would cost each time.
		TESTQ(tEnd, tEnd)
		CMOVQEQ(wp, tp)
		ADDQ(tp, tEnd)
	}
	at := func(si, disp int) {
		t := GP64()
		MOVLQZX(Mem{Base: ip, Disp: disp}, t)
		code := Mem{Base: ap, Index: t, Scale: 4}
		wb := GP64()
		MOVQ(t, wb)
		IMULQ(npb, wb)
		ADDQ(wp, wb)
		step(si, code, wb)
	}
	Label(turn)
	CMPQ(c, U32(s))
	JL(LabelRef(rest))
	for si := range s {
		at(si, 4*si)
	}
	if d.wide() {
		hintNext(PREFETCHT0, tp, tEnd)
	}
	ADDQ(U32(4*s), ip)
	SUBQ(U32(s), c)
	JMP(LabelRef(turn))
	Label(rest)
	TESTQ(c, c)
	JZ(LabelRef(done))
	at(0, 0)
	ADDQ(U32(4), ip)
	DECQ(c)
	JMP(LabelRef(rest))
	Label(done)
}

// hintNext issues the prefetch hint on the line at p and moves p to the
// next line, staying on the last one once the next would reach end.
func hintNext(hint func(Op), p, end Register) {
	hint(Mem{Base: p})
	next := GP64()
	LEAQ(Mem{Base: p, Disp: 64}, next)
	CMPQ(next, end)
	CMOVQLT(next, p)
}
