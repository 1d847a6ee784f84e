//go:build goexperiment.simd

package gomlxpeer

import "simd/archsimd"

// SIMDBuild reports whether this binary was built with GOEXPERIMENT=simd,
// which the backend's vector matrix products need.
const SIMDBuild = true

// SIMD names the vector code the backend's float32 matrix products can
// use on this CPU: the backend installs its AVX-512 kernels where the CPU
// has AVX-512 and its AVX2 ones where it has AVX2 (unless
// GOMLX_SIMD_AVX512 or GOMLX_SIMD_AVX2 turns them off).
func SIMD() string {
	switch {
	case archsimd.X86.AVX512():
		return "GOEXPERIMENT=simd, AVX-512"
	case archsimd.X86.AVX2():
		return "GOEXPERIMENT=simd, AVX2"
	}
	return "GOEXPERIMENT=simd, no AVX2"
}
