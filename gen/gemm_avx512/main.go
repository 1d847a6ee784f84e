// Command gemm_avx512 generates the AVX-512 packed GEMM micro-kernels of
// package kernels (see kernels/gemm.go for the driver that packs the panels
// and kernels/gemm_amd64.go for the glue that checks their lengths).
//
// By default it writes the tile kernels installs, for kernels/asm. With
// -alt it writes the other tiles instead, for kernels/asm/alttiles, which
// only kernels' tests and benchmarks import: they keep the choice of tile
// measured without putting three unused kernels in every user's binary.
package main

import (
	"flag"
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

var zmm = []VecPhysical{
	Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31,
}

var masks = []OpmaskPhysical{K1, K2, K3, K4}

func main() {
	alt := flag.Bool("alt", false, "emit the tiles kernels does not install (for kernels/asm/alttiles)")
	flag.Parse()
	avx.Setup()
	// 12×32 is the tile kernels installs; 14×32 and 6×64 are the other
	// shapes that fill the 32 registers, and 12×32 with embedded
	// broadcasts the other way to feed A. All are kept so that the
	// benchmarks keep comparing them (see kernels/gemm_amd64.go).
	if *alt {
		kernel(14, 2, false)
		kernel(6, 4, false)
		kernel(12, 2, true)
	} else {
		kernel(12, 2, false)
	}
	Generate()
}

// kernel emits SgemmKernel{mr}x{16·nv}AVX512: mr·nv accumulators, nv
// registers for a k step of B, and each element of A broadcast into one of
// two registers that alternate, then multiplied by the nv B registers.
// With bcst it emits SgemmKernel{mr}x{16·nv}BcstAVX512 instead, where
// every FMA broadcasts its A element from memory itself (VFMADD231PS
// with _BCST), so A needs no register but is loaded nv times. The register
// broadcast is the one installed: it was faster on large products, though
// both reach the same speed with the panels in L1 (bench/README.md, "The
// AVX-512 GEMM tile").
func kernel(mr, nv int, bcst bool) {
	nr := 16 * nv
	name := fmt.Sprintf("SgemmKernel%dx%dAVX512", mr, nr)
	if bcst {
		name = fmt.Sprintf("SgemmKernel%dx%dBcstAVX512", mr, nr)
	}
	TEXT(name, NOSPLIT, "func(kc, m, n int, a, b, c *float32, ldc int, alpha, beta float32)")
	Pragma("noescape")
	Doc(
		name+" computes a packed block of C with AVX-512: for i < m, j < n,",
		"",
		"\tC[i*ldc+j] = alpha·Σ_{p<kc} A[i,p]·B[p,j] + beta·C[i*ldc+j]",
		"",
		"where a holds ceil(m/"+fmt.Sprint(mr)+") A panels and b ceil(n/"+fmt.Sprint(nr)+") B panels, packed",
		"k-major and zero-padded as kernels.packA and kernels.packB write them.",
		"It does what kernels.gemmTiles does with a Micro kernel, one "+fmt.Sprintf("%d×%d", mr, nr)+" tile",
		"at a time in "+fmt.Sprint(mr*nv)+" zmm accumulators"+map[bool]string{false: ".", true: ", A broadcast by the FMAs."}[bcst],
		"C is read only when beta != 0 and written only inside the m×n block",
		"(rows by count, columns by opmask). Assembly because Go has no FMA",
		"and no vectors.",
		"",
		"Preconditions (checked by kernels/gemm_amd64.go): kc, m, n ≥ 1,",
		"ldc ≥ n, and the panels and C hold what the shapes need.",
	)
	if nv < 2 || mr*nv+nv > 30 {
		panic(fmt.Sprintf("gemm_avx512: %d×%d tile does not fit the register plan", mr, nr))
	}
	acc := func(i, v int) VecPhysical { return zmm[i*nv+v] }
	bv := zmm[mr*nv : mr*nv+nv]
	av := zmm[30:32]
	// After the k loop the B and A registers are free again.
	alphaZ, betaZ, tmpZ := bv[0], bv[1], zmm[31]

	avx.GemmBlock{
		MR: mr, NR: nr, Unroll: 4, PrefetchA: 512,
		Zero: func() {
			for i := range mr * nv {
				VPXORD(zmm[i], zmm[i], zmm[i])
			}
		},
		Step: func(a, b Mem) {
			for v := range nv {
				VMOVUPS(b.Offset(64*v), bv[v])
			}
			for i := range mr {
				if bcst {
					for v := range nv {
						VFMADD231PS_BCST(a.Offset(4*i), bv[v], acc(i, v))
					}
					continue
				}
				x := av[i%2]
				VBROADCASTSS(a.Offset(4*i), x)
				for v := range nv {
					VFMADD231PS(bv[v], x, acc(i, v))
				}
			}
		},
		Panel: func(nrem GPPhysical) {
			// Mask v enables the columns 16v… of this panel that exist:
			// clamp(nrem-16v, 0, 16) low bits.
			for v := range nv {
				MOVQ(nrem, RCX)
				if v > 0 {
					SUBQ(U32(16*v), RCX)
				}
				MOVL(U32(16), ESI)
				CMPQ(RCX, RSI)
				CMOVQGT(RSI, RCX)
				XORL(ESI, ESI)
				CMPQ(RCX, RSI)
				CMOVQLT(RSI, RCX)
				MOVL(U32(1), ESI)
				SHLL(CL, ESI)
				DECL(ESI)
				KMOVW(ESI, masks[v])
			}
		},
		Store: func(s avx.GemmStore) {
			VBROADCASTSS(s.Alpha, alphaZ)
			for i := range mr * nv {
				VMULPS(alphaZ, zmm[i], zmm[i])
			}
			beta0 := name + "_beta0"
			avx.GemmBetaZero(s, beta0)
			VBROADCASTSS(s.Beta, betaZ)
			MOVQ(s.C, s.Row)
			for i := range mr {
				avx.GemmSkipRow(s, i)
				for v := range nv {
					m := Mem{Base: s.Row, Disp: 64 * v}
					VMOVUPS_Z(m, masks[v], tmpZ)
					VFMADD231PS(tmpZ, betaZ, acc(i, v))
					VMOVUPS(acc(i, v), masks[v], m)
				}
				ADDQ(s.Ldc, s.Row)
			}
			JMP(LabelRef(s.Done))

			Label(beta0)
			MOVQ(s.C, s.Row)
			for i := range mr {
				avx.GemmSkipRow(s, i)
				for v := range nv {
					VMOVUPS(acc(i, v), masks[v], Mem{Base: s.Row, Disp: 64 * v})
				}
				ADDQ(s.Ldc, s.Row)
			}
		},
	}.Emit(name)
	avx.End()
}
