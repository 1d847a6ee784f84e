package kernels

// genericInt8Dense is the generic level's int8Dense: refInt8Dense's sums
// and epilogue, but reading the packed codes a block of int8Cols columns
// at a time, for four rows at once, into accumulators on the stack:
// each code of the weights loaded is used for four rows, which keeps the
// portable build (purego, other architectures) within about twice the
// float32 reference's time for a batch instead of striding down the
// columns of the row-major codes. The sums are exact, so it gives refInt8Dense's bits,
// which the level tests check.
func genericInt8Dense(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, _ []float32, _ []int32) {
	np := roundUp(w.units, int8Cols)
	groups := ceilDiv(w.in, int8Group)
	i0 := 0
	for ; i0+4 <= m; i0 += 4 {
		var rowCodes [4][]uint8
		for r := range rowCodes {
			rowCodes[r] = a[(i0+r)*lda : (i0+r)*lda+groups*int8Group]
		}
		for j0 := 0; j0 < w.units; j0 += int8Cols {
			var acc [4][int8Cols]int32
			for g := range groups {
				p := w.packed[(g*np+j0)*int8Group : (g*np+j0+int8Cols)*int8Group]
				c0, c1, c2, c3 := rowCodes[0][4*g:4*g+4], rowCodes[1][4*g:4*g+4], rowCodes[2][4*g:4*g+4], rowCodes[3][4*g:4*g+4]
				for c := range int8Cols {
					q := p[4*c : 4*c+4 : 4*c+4]
					q0, q1, q2, q3 := int32(q[0]), int32(q[1]), int32(q[2]), int32(q[3])
					acc[0][c] += int32(c0[0])*q0 + int32(c0[1])*q1 + int32(c0[2])*q2 + int32(c0[3])*q3
					acc[1][c] += int32(c1[0])*q0 + int32(c1[1])*q1 + int32(c1[2])*q2 + int32(c1[3])*q3
					acc[2][c] += int32(c2[0])*q0 + int32(c2[1])*q1 + int32(c2[2])*q2 + int32(c2[3])*q3
					acc[3][c] += int32(c3[0])*q0 + int32(c3[1])*q1 + int32(c3[2])*q2 + int32(c3[3])*q3
				}
			}
			for r := range 4 {
				i := i0 + r
				for c := range min(int8Cols, w.units-j0) {
					j := j0 + c
					t := float32(acc[r][c] - zero[i]*w.colSum[j])
					s := scale[i] * w.scale[j]
					y[i*ldy+j] = float32(t*s) + bias[j] // never fused
				}
			}
		}
	}
	// The last m mod 4 rows (a single prediction among them) one at a
	// time, skipping the groups whose codes are all zero (an image's
	// background, ReLU's zeros), which add nothing to the exact sums.
	for i := i0; i < m; i++ {
		row := a[i*lda : i*lda+groups*int8Group]
		for j0 := 0; j0 < w.units; j0 += int8Cols {
			var acc [int8Cols]int32
			for g := range groups {
				a0, a1, a2, a3 := int32(row[4*g]), int32(row[4*g+1]), int32(row[4*g+2]), int32(row[4*g+3])
				if a0|a1|a2|a3 == 0 {
					continue
				}
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
