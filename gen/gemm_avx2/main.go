// Command gemm_avx2 generates the AVX2+FMA packed GEMM micro-kernel of
// package kernels (see kernels/gemm.go for the driver that packs the panels
// and kernels/gemm_amd64.go for the glue that checks their lengths).
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

// Only Y0–Y15: Y16 and up need EVEX, which an AVX2-only CPU lacks.
var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

const (
	mr = 6
	nv = 2
	nr = 8 * nv
)

const kernelName = "SgemmKernel6x16AVX2"

// In the k loop the tile fills Y0–Y11 (acc), which leaves Y12–Y13 for
// one row of B and Y14–Y15 for A's broadcasts, taken in turn.
var bv, av = ymm[12:14], ymm[14:16]

// After the k loop, Y12–Y15 are free for alpha (then beta), a C
// temporary and the two column masks.
var (
	scalar, tmp = Y12, Y13
	mask        = ymm[14:16]
)

// acc is the accumulator of tile row i, columns 8v to 8v+7.
func acc(i, v int) VecPhysical { return ymm[i*nv+v] }

// lbl makes a label of the kernel's.
func lbl(x string) string { return kernelName + "_" + x }

func main() {
	avx.Setup()
	sgemmKernel(gemmMaskTable())
	packT6()
	Generate()
}

// gemmMaskTable emits gemmMaskAVX2, 16 all-ones words then 16 zero
// words: the 16 words from index 16-n enable exactly the first n lanes of
// a 16-column tile row.
func gemmMaskTable() Mem {
	maskTab := GLOBL("gemmMaskAVX2", RODATA|NOPTR)
	for i := range 32 {
		v := uint32(0)
		if i < 16 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	return maskTab
}

// sgemmKernel emits the 6×16 micro-kernel: avx.GemmBlock's loops around
// its k step and its tile store.
func sgemmKernel(maskTab Mem) {
	const name = kernelName
	TEXT(name, NOSPLIT, "func(kc, m, n int, a, b, c *float32, ldc int, alpha, beta float32)")
	Pragma("noescape")
	Doc(
		name+" computes a packed block of C with AVX2 and FMA: for i < m, j < n,",
		"",
		"\tC[i*ldc+j] = alpha·Σ_{p<kc} A[i,p]·B[p,j] + beta·C[i*ldc+j]",
		"",
		"where a holds ceil(m/6) A panels and b ceil(n/16) B panels, packed",
		"k-major and zero-padded as kernels.packA and kernels.packB write them.",
		"It does what kernels.gemmTiles does with a Micro kernel, one 6×16 tile",
		"at a time in 12 accumulators. C is read only when beta != 0 and",
		"written only inside the m×n block (rows by count, columns of the last",
		"panel by VMASKMOVPS). Assembly because Go has no FMA and no vectors.",
		"",
		"Preconditions (checked by kernels/gemm_amd64.go): kc, m, n ≥ 1,",
		"ldc ≥ n, and the panels and C hold what the shapes need.",
	)
	avx.GemmBlock{
		MR: mr, NR: nr, Unroll: 4, PrefetchA: 384,
		Zero: func() {
			for i := range mr * nv {
				VXORPS(ymm[i], ymm[i], ymm[i])
			}
		},
		Step:  kStep,
		Panel: func(GPPhysical) {},
		Store: func(s avx.GemmStore) { storeTile(s, maskTab) },
	}.Emit(name)
	avx.End()
}

// kStep emits one k step: the tile's rank-1 update from one packed row
// of B and one packed column of A.
func kStep(a, b Mem) {
	for v := range nv {
		VMOVUPS(b.Offset(32*v), bv[v])
	}
	for i := range mr {
		x := av[i%2]
		VBROADCASTSS(a.Offset(4*i), x)
		for v := range nv {
			VFMADD231PS(bv[v], x, acc(i, v))
		}
	}
}

// storeTile emits the tile's store: alpha applied, then the full-width
// path or, for the last panel when narrower, the masked one.
func storeTile(s avx.GemmStore, maskTab Mem) {
	VBROADCASTSS(s.Alpha, scalar)
	for i := range mr * nv {
		VMULPS(scalar, ymm[i], ymm[i])
	}
	CMPQ(s.Nrem, U32(nr))
	JL(LabelRef(lbl("edge")))
	storeFull(s)
	storeEdge(s, maskTab)
}

// storeFull emits the store of a full-width tile, C read only when
// beta != 0.
func storeFull(s avx.GemmStore) {
	avx.GemmBetaZero(s, lbl("full0"))
	VBROADCASTSS(s.Beta, scalar)
	MOVQ(s.C, s.Row)
	for i := range mr {
		avx.GemmSkipRow(s, i)
		for v := range nv {
			m := Mem{Base: s.Row, Disp: 32 * v}
			VFMADD231PS(m, scalar, acc(i, v))
			VMOVUPS(acc(i, v), m)
		}
		ADDQ(s.Ldc, s.Row)
	}
	JMP(LabelRef(s.Done))
	Label(lbl("full0"))
	MOVQ(s.C, s.Row)
	for i := range mr {
		avx.GemmSkipRow(s, i)
		for v := range nv {
			VMOVUPS(acc(i, v), Mem{Base: s.Row, Disp: 32 * v})
		}
		ADDQ(s.Ldc, s.Row)
	}
	JMP(LabelRef(s.Done))
}

// storeEdge emits the store of the last panel, narrower than 16 columns:
// masked loads and stores, which neither fault on nor touch the lanes
// they leave out.
func storeEdge(s avx.GemmStore, maskTab Mem) {
	Label(lbl("edge"))
	LEAQ(maskTab.Offset(64), s.Scratch)
	MOVQ(s.Nrem, s.Row)
	SHLQ(U8(2), s.Row)
	SUBQ(s.Row, s.Scratch)
	VMOVDQU(Mem{Base: s.Scratch}, mask[0])
	VMOVDQU(Mem{Base: s.Scratch, Disp: 32}, mask[1])
	avx.GemmBetaZero(s, lbl("edge0"))
	VBROADCASTSS(s.Beta, scalar)
	MOVQ(s.C, s.Row)
	for i := range mr {
		avx.GemmSkipRow(s, i)
		for v := range nv {
			m := Mem{Base: s.Row, Disp: 32 * v}
			VMASKMOVPS(m, mask[v], tmp)
			VFMADD231PS(tmp, scalar, acc(i, v))
			VMASKMOVPS(acc(i, v), mask[v], m)
		}
		ADDQ(s.Ldc, s.Row)
	}
	JMP(LabelRef(s.Done))
	Label(lbl("edge0"))
	MOVQ(s.C, s.Row)
	for i := range mr {
		avx.GemmSkipRow(s, i)
		for v := range nv {
			VMASKMOVPS(acc(i, v), mask[v], Mem{Base: s.Row, Disp: 32 * v})
		}
		ADDQ(s.Ldc, s.Row)
	}
}

// packT6 emits PackT6AVX2, the copy into an A panel of six rows of an
// untransposed A (the trainer's forward product X·W packs every row of X
// this way): eight k steps at a time, six row loads and a 6×8 transpose
// in registers in place of 48 scalar copies.
func packT6() {
	const name = "PackT6AVX2"
	TEXT(name, NOSPLIT, "func(chunks int, src *float32, ld int, dst *float32)")
	Pragma("noescape")
	Doc(
		name+" fills 8·chunks k steps of a 6-row A panel from six rows of A,",
		"row i starting at src[i*ld]:",
		"",
		"	dst[6*p+i] = src[i*ld+p]  for i < 6, p < 8·chunks",
		"",
		"reading 8·chunks elements of each row and writing exactly 48·chunks",
		"elements of dst. The rest of a panel, k steps past the last multiple of",
		"eight and panels of fewer rows, is kernels.packTransposed's.",
		"",
		"Preconditions (checked by kernels/gemm_amd64.go): chunks ≥ 1, ld ≥ 1,",
		"and src and dst hold what the shapes need.",
	)
	n := Load(Param("chunks"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), ld)
	// Rows 0-2 are src, src+ld and src+2·ld; rows 3-5 the same from
	// src3 = src+3·ld.
	src3 := GP64()
	LEAQ(Mem{Base: src, Index: ld, Scale: 2}, src3)
	ADDQ(ld, src3)

	Label(name + "_loop")
	r := ymm[0:6]
	VMOVUPS(Mem{Base: src}, r[0])
	VMOVUPS(Mem{Base: src, Index: ld, Scale: 1}, r[1])
	VMOVUPS(Mem{Base: src, Index: ld, Scale: 2}, r[2])
	VMOVUPS(Mem{Base: src3}, r[3])
	VMOVUPS(Mem{Base: src3, Index: ld, Scale: 1}, r[4])
	VMOVUPS(Mem{Base: src3, Index: ld, Scale: 2}, r[5])
	// Interleave row pairs: in each 128-bit lane, t[0] holds
	// (a0p a1p a0p+1 a1p+1) for p = 0 (low lane) and 4 (high lane), t[1]
	// the same for p = 2 and 6; t[2], t[3] rows 2 and 3; t[4], t[5]
	// rows 4 and 5.
	t := ymm[6:12]
	for q := range 3 {
		VUNPCKLPS(r[2*q+1], r[2*q], t[2*q])
		VUNPCKHPS(r[2*q+1], r[2*q], t[2*q+1])
	}
	// u[j] lane l holds rows 0-3 of k step j+4l.
	u := ymm[0:4]
	VSHUFPS(U8(0x44), t[2], t[0], u[0])
	VSHUFPS(U8(0xEE), t[2], t[0], u[1])
	VSHUFPS(U8(0x44), t[3], t[1], u[2])
	VSHUFPS(U8(0xEE), t[3], t[1], u[3])
	// Step p takes 24 bytes at 24p: rows 0-3 from u, rows 4-5 from the
	// low or high half of a lane of t[4] (p even in its lane) or t[5].
	lo, hi := []VecPhysical{X0, X1, X2, X3}, []VecPhysical{X10, X11}
	for j := range 4 {
		VMOVUPS(lo[j], Mem{Base: dst, Disp: 24 * j})
		m := Mem{Base: dst, Disp: 24*j + 16}
		if j%2 == 0 {
			VMOVLPS(hi[j/2], m)
		} else {
			VMOVHPS(hi[j/2], m)
		}
	}
	for j := range 4 {
		VEXTRACTF128(U8(1), u[j], Mem{Base: dst, Disp: 24 * (j + 4)})
	}
	VEXTRACTF128(U8(1), t[4], X12)
	VEXTRACTF128(U8(1), t[5], X13)
	for j, x := range []VecPhysical{X12, X12, X13, X13} {
		m := Mem{Base: dst, Disp: 24*(j+4) + 16}
		if j%2 == 0 {
			VMOVLPS(x, m)
		} else {
			VMOVHPS(x, m)
		}
	}
	ADDQ(U8(32), src)
	ADDQ(U8(32), src3)
	ADDQ(U32(192), dst)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	avx.End()
}
