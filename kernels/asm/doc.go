// Package asm holds the generated assembly of package kernels and its Go
// declarations. Nothing here is API: only kernels imports it, checks every
// argument before calling in, and documents each function's reference.
//
// The files are written by the generators in the gen module (one
// generator per output file) and must never be edited by hand; `make
// generate` or `go generate ./...` at the repository root rewrites them and
// `make check-generate` fails when they are stale.
package asm

//go:generate go run -C ../../gen ./gemm_avx2 -out ../kernels/asm/gemm_avx2_amd64.s -stubs ../kernels/asm/gemm_avx2_amd64.go -pkg asm
//go:generate go run -C ../../gen ./gemm_avx512 -out ../kernels/asm/gemm_avx512_amd64.s -stubs ../kernels/asm/gemm_avx512_amd64.go -pkg asm
//go:generate go run -C ../../gen ./elem_avx2 -out ../kernels/asm/elem_avx2_amd64.s -stubs ../kernels/asm/elem_avx2_amd64.go -pkg asm
//go:generate go run -C ../../gen ./elem_avx512 -out ../kernels/asm/elem_avx512_amd64.s -stubs ../kernels/asm/elem_avx512_amd64.go -pkg asm
//go:generate go run -C ../../gen ./gemmsmall_avx2 -out ../kernels/asm/gemmsmall_avx2_amd64.s -stubs ../kernels/asm/gemmsmall_avx2_amd64.go -pkg asm
//go:generate go run -C ../../gen ./gemmsmall_avx512 -out ../kernels/asm/gemmsmall_avx512_amd64.s -stubs ../kernels/asm/gemmsmall_avx512_amd64.go -pkg asm
//go:generate go run -C ../../gen ./optim_avx2 -out ../kernels/asm/optim_avx2_amd64.s -stubs ../kernels/asm/optim_avx2_amd64.go -pkg asm
//go:generate go run -C ../../gen ./optim_avx512 -out ../kernels/asm/optim_avx512_amd64.s -stubs ../kernels/asm/optim_avx512_amd64.go -pkg asm
//go:generate go run -C ../../gen ./int8_avx2 -out ../kernels/asm/int8_avx2_amd64.s -stubs ../kernels/asm/int8_avx2_amd64.go -pkg asm
//go:generate go run -C ../../gen ./int8_avx512 -out ../kernels/asm/int8_avx512_amd64.s -stubs ../kernels/asm/int8_avx512_amd64.go -pkg asm
//go:generate go run -C ../../gen ./gemm_neon -out ../kernels/asm/gemm_neon_arm64.s -stubs ../kernels/asm/gemm_neon_arm64.go -pkg asm
//go:generate go run -C ../../gen ./elem_neon -out ../kernels/asm/elem_neon_arm64.s -stubs ../kernels/asm/elem_neon_arm64.go -pkg asm
//go:generate go run -C ../../gen ./optim_neon -out ../kernels/asm/optim_neon_arm64.s -stubs ../kernels/asm/optim_neon_arm64.go -pkg asm
//go:generate go run -C ../../gen ./gemmsmall_neon -out ../kernels/asm/gemmsmall_neon_arm64.s -stubs ../kernels/asm/gemmsmall_neon_arm64.go -pkg asm
//go:generate go run -C ../../gen ./int8_neon -out ../kernels/asm/int8_neon_arm64.s -stubs ../kernels/asm/int8_neon_arm64.go -pkg asm
//go:generate go run -C ../../gen ./peak_avx2 -out ../kernels/asm/peak_avx2_amd64.s -stubs ../kernels/asm/peak_avx2_amd64.go -pkg asm
//go:generate go run -C ../../gen ./peak_avx512 -out ../kernels/asm/peak_avx512_amd64.s -stubs ../kernels/asm/peak_avx512_amd64.go -pkg asm
//go:generate go run -C ../../gen ./peak_neon -out ../kernels/asm/peak_neon_arm64.s -stubs ../kernels/asm/peak_neon_arm64.go -pkg asm
//go:generate go run -C ../../gen ./prefetch_amd64 -out ../kernels/asm/prefetch_amd64.s -stubs ../kernels/asm/prefetch_amd64.go -pkg asm
//go:generate go run -C ../../gen ./prefetch_arm64 -out ../kernels/asm/prefetch_arm64.s -stubs ../kernels/asm/prefetch_arm64.go -pkg asm
