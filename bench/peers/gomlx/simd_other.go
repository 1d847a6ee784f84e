//go:build !goexperiment.simd || !amd64

package gomlxpeer

// SIMDBuild reports whether this binary was built with GOEXPERIMENT=simd,
// which the backend's vector matrix products need.
const SIMDBuild = false

// SIMD names the vector code the backend's matrix products can use: none
// in this build.
func SIMD() string {
	return "no GOEXPERIMENT=simd: portable Go loops"
}
