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

func main() {
	avx.Setup()

	// maskTab is 16 all-ones words then 16 zero words: the 16 words from
	// index 16-n enable exactly the first n lanes of a 16-column tile row.
	maskTab := GLOBL("gemmMaskAVX2", RODATA|NOPTR)
	for i := range 32 {
		v := uint32(0)
		if i < 16 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}

	const name = "SgemmKernel6x16AVX2"
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
	acc := func(i, v int) VecPhysical { return ymm[i*nv+v] }
	bv := ymm[12:14]
	av := ymm[14:16]
	// After the k loop, Y12–Y15 are free for alpha (then beta), a C
	// temporary and the two column masks.
	scalar, tmp, mask := Y12, Y13, ymm[14:16]

	avx.GemmBlock{
		MR: mr, NR: nr, Unroll: 4, PrefetchA: 384,
		Zero: func() {
			for i := range mr * nv {
				VXORPS(ymm[i], ymm[i], ymm[i])
			}
		},
		Step: func(a, b Mem) {
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
		},
		Panel: func(GPPhysical) {},
		Store: func(s avx.GemmStore) {
			VBROADCASTSS(s.Alpha, scalar)
			for i := range mr * nv {
				VMULPS(scalar, ymm[i], ymm[i])
			}
			lbl := func(x string) string { return name + "_" + x }
			CMPQ(s.Nrem, U32(nr))
			JL(LabelRef(lbl("edge")))

			// Full-width tile.
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

			// The last panel, narrower than 16 columns: masked loads
			// and stores, which neither fault on nor touch the lanes
			// they leave out.
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
		},
	}.Emit(name)
	avx.End()
	Generate()
}
