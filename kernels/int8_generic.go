package kernels

// genericInt8Dense is the generic level's int8Dense: refInt8Dense's sums
// and epilogue, but reading the packed codes a block of int8Cols columns
// at a time into accumulators on the stack, which keeps the portable
// build (purego, other architectures) within a few times the float32
// reference instead of striding down the columns of the row-major codes.
// The sums are exact, so it gives refInt8Dense's bits, which the level
// tests check.
func genericInt8Dense(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, _ []float32) {
	np := roundUp(w.units, int8Cols)
	groups := ceilDiv(w.in, int8Group)
	for i := range m {
		row := a[i*lda : i*lda+groups*int8Group]
		for j0 := 0; j0 < w.units; j0 += int8Cols {
			var acc [int8Cols]int32
			for g := range groups {
				a0, a1, a2, a3 := int32(row[4*g]), int32(row[4*g+1]), int32(row[4*g+2]), int32(row[4*g+3])
				p := w.packed[(g*np+j0)*int8Group : (g*np+j0+int8Cols)*int8Group]
				for c := range int8Cols {
					q := p[4*c : 4*c+4 : 4*c+4]
					acc[c] += a0*int32(q[0]) + a1*int32(q[1]) + a2*int32(q[2]) + a3*int32(q[3])
				}
			}
			for c := range min(int8Cols, w.units-j0) {
				j := j0 + c
				t := float32(acc[c] - zero[i]*w.colSum[j])
				s := scale[i] * w.scale[j]
				y[i*ldy+j] = float32(t*s) + bias[j] // never fused
			}
		}
	}
}
