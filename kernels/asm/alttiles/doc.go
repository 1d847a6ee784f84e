// Package alttiles holds the generated AVX-512 GEMM tiles that package
// kernels does not install: 14×32, 6×64 and 12×32 with embedded
// broadcasts. Only kernels' tests and benchmarks import it, to keep
// checking them against the reference and measuring them beside the
// installed 12×32 tile (BenchmarkSgemmTile), so that none of them is
// linked into a program that uses the library.
//
// Like package asm it is written by the generators in the gen module and
// must never be edited by hand; `go generate ./...` at the repository root
// rewrites it.
package alttiles

//go:generate go run -C ../../../gen ./gemm_avx512 -alt -out ../kernels/asm/alttiles/gemm_avx512_amd64.s -stubs ../kernels/asm/alttiles/gemm_avx512_amd64.go -pkg alttiles
