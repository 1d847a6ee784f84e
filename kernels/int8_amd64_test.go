//go:build gc && !purego

package kernels

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// int8Variant names the int8 product a level holds.
func int8Variant(l *impl) string {
	for name, f := range map[string]any{
		"reference": refInt8Dense, "madd-avx2": int8DenseMaddAVX2,
		"vnni-avx2": int8DenseVNNIAVX2, "vnni-avx512": int8DenseVNNIAVX512,
	} {
		if sameFunc(l.int8Dense, f) {
			return name
		}
	}
	return "unknown"
}

// TestInt8Installed checks that each amd64 level holds its own
// QuantizeRowsU8 and the int8 product the CPU flags (as x/sys/cpu reports
// them, GODEBUG included) call for, so that the level tests exercise that
// assembly. It prints the variants for TestInt8Variants.
func TestInt8Installed(t *testing.T) {
	want := map[string][2]any{
		"avx2":   {asm.QuantizeRowsU8AVX2, int8DenseMaddAVX2},
		"avx512": {asm.QuantizeRowsU8AVX512, int8DenseMaddAVX2},
	}
	if cpu.X86.HasAVXVNNI {
		want["avx2"] = [2]any{asm.QuantizeRowsU8AVX2, int8DenseVNNIAVX2}
		want["avx512"] = [2]any{asm.QuantizeRowsU8AVX512, int8DenseVNNIAVX2}
	}
	if cpu.X86.HasAVX512VNNI {
		want["avx512"] = [2]any{asm.QuantizeRowsU8AVX512, int8DenseVNNIAVX512}
	}
	var report []string
	for _, l := range levels[1:] {
		w, ok := want[l.name]
		if !ok {
			t.Fatalf("no int8 expectation for level %s", l.name)
		}
		if !sameFunc(l.quantizeRowsU8, w[0]) {
			t.Errorf("%s: quantizeRowsU8 is not the level's assembly", l.name)
		}
		if !sameFunc(l.int8Dense, w[1]) {
			t.Errorf("%s: int8Dense is %s", l.name, int8Variant(l))
		}
		report = append(report, l.name+"="+int8Variant(l))
	}
	if os.Getenv("SIMDMLP_INT8_CHILD") != "" {
		os.Stdout.WriteString("INT8 " + strings.Join(report, " ") + "\n")
	}
}

// TestInt8Variants runs the int8 tests again in child processes with the
// VNNI flags hidden through GODEBUG (which x/sys/cpu reads at start-up),
// so that on a VNNI machine the AVX2 VPMADDWD product, and the avx512
// level's fallback to the avx2 level's product, run natively too.
func TestInt8Variants(t *testing.T) {
	if os.Getenv("SIMDMLP_INT8_CHILD") != "" {
		t.Skip("child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	has := func(l string) bool {
		for _, a := range Available() {
			if a == l {
				return true
			}
		}
		return false
	}
	cases := []struct {
		godebug string
		want    []string // the variants the child must report
	}{
		{"cpu.avxvnni=off,cpu.avx512vnni=off", []string{"avx2=madd-avx2", "avx512=madd-avx2"}},
		{"cpu.avx512vnni=off", []string{"avx512=" + map[bool]string{true: "vnni-avx2", false: "madd-avx2"}[cpu.X86.HasAVXVNNI]}},
		{"cpu.avxvnni=off", []string{"avx2=madd-avx2"}},
	}
	for _, c := range cases {
		cmd := exec.Command(exe, "-test.count=1", "-test.run=^(TestInt8Installed|TestQuantizeRowsU8Levels|TestDenseInt8Levels|TestDenseInt8Shapes|TestDenseInt8SparseRows|TestInt8SumsExact)$")
		cmd.Env = append(os.Environ(), "SIMDMLP_INT8_CHILD=1", "GODEBUG="+c.godebug)
		out, err := cmd.CombinedOutput()
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("cannot re-execute the test binary: %v", err)
		}
		if err != nil {
			t.Fatalf("GODEBUG=%s: child failed: %v\n%s", c.godebug, err, out)
		}
		for _, w := range c.want {
			level, _, _ := strings.Cut(w, "=")
			if has(level) && !strings.Contains(string(out), w) {
				t.Errorf("GODEBUG=%s: child reported %q, want %s", c.godebug, out, w)
			}
		}
	}
}

// TestDenseInt8Shapes runs every level against the reference on the
// shapes around the assembly's tiles: 1–9, 15–17 rows (tiles of 4 and 2
// rows and their remainders), units around multiples of 16 (a tail vector
// or a scalar tail of each size) and inputs around multiples of 4 and of
// the sets of sums, with odd leading dimensions, unaligned rows of x and
// guard cells after every row of y and after the last one.
func TestDenseInt8Shapes(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		level := active
		r := rand.New(rand.NewPCG(11, 12))
		for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17} {
			for _, units := range []int{1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 79, 80, 129} {
				for _, in := range []int{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65} {
					if r.IntN(3) != 0 {
						continue
					}
					c := int8Case{m: m, in: in, units: units, ldx: in + r.IntN(3), ldy: units + 1 + r.IntN(3), off: r.IntN(4)}
					w, bias := randomInt8Layer(r, in, units)
					x := int8Input(r, c)
					// y: guard cells between the rows (ldy > units) and
					// after the last row.
					n := (m-1)*c.ldy + units
					ybuf := make([]float32, n+guardN)
					for i := range ybuf {
						ybuf[i] = float32(-1e30)
					}
					want := append([]float32(nil), ybuf...)
					DenseInt8(ActLinear, m, x, c.ldx, w, bias, ybuf[:n], c.ldy)
					kp := roundUp(in, 4)
					q := make([]uint8, m*kp)
					s, z := make([]float32, m), make([]int32, m)
					refQuantizeRowsU8(q, kp, s, z, x, c.ldx, m, in)
					refInt8Dense(m, q, kp, s, z, w, bias, want[:n], c.ldy)
					if i := firstDiff(ybuf, want); i >= 0 {
						t.Fatalf("%s %+v: y[%d] = %v, reference %v", level.name, c, i, ybuf[i], want[i])
					}
				}
			}
		}
	})
}
