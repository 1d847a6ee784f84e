package pyfmt

import (
	"math"
	"testing"
)

// TestRepr: values whose repr CPython 3.11 prints as given, including the
// integral and large ones where Go's shortest %g switches to exponent form
// (1234567.0 is 1.234567e+06 in Go) and Python does not.
func TestRepr(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {2, "2.0"}, {1234567, "1234567.0"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.5e300, "1.5e+300"},
		{0.0001, "0.0001"}, {1e-05, "1e-05"}, {1.2e-07, "1.2e-07"},
		{0.8725833296775818, "0.8725833296775818"}, {float64(float32(0.1)), "0.10000000149011612"},
		{math.NaN(), "nan"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	} {
		if got := Repr(c.v); got != c.want {
			t.Errorf("Repr(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
