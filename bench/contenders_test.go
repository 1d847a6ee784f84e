package bench

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestContendersAgree checks that every contender computes what the
// benchmarks claim it does, against a float64 reference, on the
// benchmarked shapes up to 512 and with general alpha, beta and leading
// dimensions larger than the rows, so that a peer's wrapper that swaps
// operands, drops a transpose or misreads a stride cannot produce
// figures. The bound is the one kernels' own tests use:
// (k+3)·2⁻²⁴·(|alpha|·Σ|a||b| + |beta·c|).
func TestContendersAgree(t *testing.T) {
	const alpha, beta = 1.5, -0.5
	for _, s := range sgemmShapes {
		if max(s.m, s.n, s.k) > 512 {
			continue
		}
		r := rand.New(rand.NewPCG(uint64(s.m), uint64(s.n*s.k)))
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		lda, ldb, ldc := ac+3, bc+1, s.n+2
		a, b, c0 := randSlice(r, (ar-1)*lda+ac), randSlice(r, (br-1)*ldb+bc), randSlice(r, (s.m-1)*ldc+s.n)
		at := func(i, p int) float64 {
			if s.transA {
				return float64(a[p*lda+i])
			}
			return float64(a[i*lda+p])
		}
		bt := func(p, j int) float64 {
			if s.transB {
				return float64(b[j*ldb+p])
			}
			return float64(b[p*ldb+j])
		}
		want := make([]float64, len(c0))
		bound := make([]float64, len(c0))
		for i := range s.m {
			for j := range s.n {
				sum, abs := 0.0, 0.0
				for p := range s.k {
					sum += at(i, p) * bt(p, j)
					abs += math.Abs(at(i, p) * bt(p, j))
				}
				x := i*ldc + j
				want[x] = alpha*sum + beta*float64(c0[x])
				bound[x] = float64(s.k+3) / (1 << 24) * (alpha*abs + math.Abs(beta*float64(c0[x])))
			}
		}
		for _, ct := range contenders() {
			sgemm, restore, err := ct.use()
			if err != nil {
				t.Fatalf("%s: %v", ct.name, err)
			}
			aIn, bIn := append([]float32(nil), a...), append([]float32(nil), b...)
			c := append([]float32(nil), c0...)
			sgemm(s.transA, s.transB, s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, c, ldc)
			restore()
			bad := 0
			for x := range c {
				if x%ldc >= s.n {
					if c[x] != c0[x] {
						t.Errorf("impl=%s/%s: padding c[%d] changed to %v", ct.name, s.name(), x, c[x])
					}
					continue
				}
				if d := math.Abs(float64(c[x]) - want[x]); !(d <= bound[x]) && bad < 3 {
					bad++
					t.Errorf("impl=%s/%s: c[%d,%d] = %v, want %v ± %.3g", ct.name, s.name(), x/ldc, x%ldc, c[x], want[x], bound[x])
				}
			}
			if !equal(a, aIn) || !equal(b, bIn) {
				t.Errorf("impl=%s/%s: an input changed", ct.name, s.name())
			}
		}
	}
}

// equal reports whether x and y hold the same bits.
func equal(x, y []float32) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return false
		}
	}
	return true
}
