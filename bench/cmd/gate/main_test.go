package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeResults writes a benchmark-format file: for each round, one line
// per benchmark with the time that times returns for it, in ns/op.
func writeResults(t *testing.T, name string, rounds int, names []string, times func(round int, bench string) float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\npkg: example.com/k\ncpu: Test CPU\n")
	for r := range rounds {
		for _, n := range names {
			fmt.Fprintf(&b, "Benchmark%s\t1000\t%.1f ns/op\n", n, times(r, n))
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// noisy returns base scaled by a factor uniform in [1-spread, 1+spread].
func noisy(r *rand.Rand, base, spread float64) float64 {
	return base * (1 + spread*(2*r.Float64()-1))
}

func runGate(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var plain = []string{"Relu/impl=avx2/n=3200", "Sgemm/impl=avx2/m=32,n=100,k=784", "Sgemm/impl=avx2/threads=2/m=32,n=100,k=784"}

func TestSlowdownFails(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	old := writeResults(t, "old.txt", 10, plain, func(int, string) float64 { return noisy(r, 1000, 0.05) })
	slow := writeResults(t, "new.txt", 10, plain, func(_ int, n string) float64 {
		if n == plain[1] {
			return noisy(r, 1300, 0.05)
		}
		return noisy(r, 1000, 0.05)
	})
	code, out, errOut := runGate(t, "-old", old, "-new", slow, "-threshold", "10%", "-alpha", "0.05")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Only the slowed benchmark fails; its threads=2 sibling, which has
	// the same name but one key, is a separate benchmark and unchanged.
	var failing []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, "FAIL") {
			failing = append(failing, strings.Fields(l)[0])
		}
	}
	if len(failing) != 1 || failing[0] != "Sgemm/impl=avx2/m=32,n=100,k=784" {
		t.Errorf("failing lines %q, want only Sgemm/impl=avx2/m=32,n=100,k=784; output:\n%s", failing, out)
	}
	if !strings.Contains(out, "1 worse by more than 10%") {
		t.Errorf("summary does not count one failure:\n%s", out)
	}
}

func TestSlowdownWithinThresholdPasses(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	old := writeResults(t, "old.txt", 10, plain, func(int, string) float64 { return noisy(r, 1000, 0.02) })
	slow := writeResults(t, "new.txt", 10, plain, func(int, string) float64 { return noisy(r, 1300, 0.02) })
	if code, out, _ := runGate(t, "-old", old, "-new", slow, "-threshold", "40%"); code != 0 {
		t.Fatalf("a significant 30%% slowdown failed a 40%% threshold (exit %d):\n%s", code, out)
	}
	if code, out, _ := runGate(t, "-old", old, "-new", slow, "-threshold", "0.2"); code != 1 {
		t.Fatalf("the same slowdown passed a 0.2 threshold (exit %d):\n%s", code, out)
	}
}

func TestNoisePasses(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 3))
		old := writeResults(t, "old.txt", 10, plain, func(int, string) float64 { return noisy(r, 1000, 0.05) })
		same := writeResults(t, "new.txt", 10, plain, func(int, string) float64 { return noisy(r, 1000, 0.05) })
		if code, out, errOut := runGate(t, "-old", old, "-new", same); code != 0 {
			t.Fatalf("seed %d: noise of ±5%% gave exit %d:\n%s%s", seed, code, out, errOut)
		}
	}
}

func TestMissingIsReportedNotFailed(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	old := writeResults(t, "old.txt", 10, plain, func(int, string) float64 { return noisy(r, 1000, 0.05) })
	fewer := writeResults(t, "new.txt", 10, plain[:2], func(int, string) float64 { return noisy(r, 1000, 0.05) })
	code, out, _ := runGate(t, "-old", old, "-new", fewer)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(out, plain[2]) || !strings.Contains(out, "not compared") || !strings.Contains(out, "1 missing") {
		t.Errorf("missing %s not reported:\n%s", plain[2], out)
	}
}

func TestUsageErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	good := writeResults(t, "good.txt", 3, plain, func(int, string) float64 { return noisy(r, 1000, 0.05) })
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("BenchmarkX\t10\tfast ns/op\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("goos: linux\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-new", good}, "-old is required"},
		{[]string{"-old", good}, "-new is required"},
		{[]string{"-old", good, "-new", good, "-threshold", "ten"}, "not a number"},
		{[]string{"-old", good, "-new", good, "-threshold", "-5%"}, "negative"},
		{[]string{"-old", good, "-new", good, "-alpha", "1.5"}, "-alpha"},
		{[]string{"-old", good, "-new", filepath.Join(t.TempDir(), "none.txt")}, "no such file"},
		{[]string{"-old", bad, "-new", good}, "bad.txt"},
		{[]string{"-old", empty, "-new", good}, "no benchmark results"},
		{[]string{"-old", good, "-new", good, "-units", "GFLOP/s"}, "no benchmark in units GFLOP/s"},
		{[]string{"-ratios", "-new", good}, "no FMAPeak results"},
		{[]string{"-old", good, "-new", good, "extra"}, "unexpected arguments"},
		{[]string{"-old", good, "-new", good, "-best-of", "0"}, "-best-of 0"},
	} {
		code, _, errOut := runGate(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("gate %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// levels is a ratio-mode suite: GEMMs with GFLOP/s and ReLU on three
// levels, and the FMA peak of the two vector levels.
var levels = []string{"generic", "avx2", "avx512"}

// peakGFLOPs is each vector level's peak on a machine of speed 1.
var peakGFLOPs = map[string]float64{"avx2": 100, "avx512": 200}

// writeRaw writes rounds of a kernel suite in which kernel k of level l
// takes base·cost[l]·slow[l+"/"+k] ns (slow defaults to 1), every time
// multiplied by the machine's speed factor and a load factor per round,
// which slow the peak loop alike.
func writeRaw(t *testing.T, name string, rounds int, lv []string, cost map[string]float64, slow map[string]float64, machine float64, r *rand.Rand) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("pkg: example.com/kernels\n")
	shapes := []struct {
		name  string
		flops float64
		base  float64
	}{{"m=32,n=100,k=784", 2 * 32 * 100 * 784, 400e3}, {"m=512,n=512,k=512", 2 * 512 * 512 * 512, 17e6}}
	factor := func(l, k string) float64 {
		if f, ok := slow[l+"/"+k]; ok {
			return f
		}
		return 1
	}
	for range rounds {
		// A round-wide load factor: a busy spell slows every level alike.
		load := noisy(r, 1.5, 0.4)
		for _, l := range lv {
			if p, ok := peakGFLOPs[l]; ok {
				fmt.Fprintf(&b, "BenchmarkFMAPeak/impl=%s/threads=1\t10\t1000 ns/op\t%.2f GFLOP/s\n", l, noisy(r, p/(machine*load), 0.03))
			}
			for _, s := range shapes {
				ns := noisy(r, s.base*cost[l]*factor(l, "sgemm")*machine*load, 0.03)
				fmt.Fprintf(&b, "BenchmarkSgemm/impl=%s/%s\t10\t%.0f ns/op\t%.2f GFLOP/s\n", l, s.name, ns, s.flops/ns)
			}
			ns := noisy(r, 5000*cost[l]*factor(l, "relu")*machine*load, 0.03)
			fmt.Fprintf(&b, "BenchmarkRelu/impl=%s/n=3200\t1000\t%.0f ns/op\n", l, ns)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// failing returns the names of the benchmarks a gate output fails.
func failing(out string) []string {
	var f []string
	for _, l := range strings.Split(out, "\n") {
		if (strings.HasPrefix(l, "Relu") || strings.HasPrefix(l, "Sgemm")) && strings.Contains(l, "FAIL") {
			f = append(f, strings.Fields(l)[0])
		}
	}
	return f
}

func TestRatios(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	cost := map[string]float64{"generic": 1, "avx2": 0.1, "avx512": 0.05}
	base := writeRaw(t, "base.txt", 10, levels, cost, nil, 1, r)
	ratioArgs := func(newPath string, extra ...string) []string {
		return append([]string{"-ratios", "-old", base, "-new", newPath, "-threshold", "15%", "-alpha", "0.01"}, extra...)
	}

	// A machine three times slower, and noisier rounds: same ratios.
	slowMachine := writeRaw(t, "slowmachine.txt", 10, levels, cost, nil, 3, r)
	if code, out, errOut := runGate(t, ratioArgs(slowMachine)...); code != 0 {
		t.Fatalf("a uniformly slower machine failed the ratio gate (exit %d):\n%s%s", code, out, errOut)
	}

	// No AVX-512: its ratios are missing, nothing fails, unless the
	// machine is said to support it.
	noAVX512 := writeRaw(t, "noavx512.txt", 10, levels[:2], cost, nil, 1, r)
	code, out, _ := runGate(t, ratioArgs(noAVX512)...)
	if code != 0 || !strings.Contains(out, "Sgemm/impl=avx512/m=32,n=100,k=784") || !strings.Contains(out, "not compared") {
		t.Fatalf("without avx512: exit %d, want 0 with avx512 listed as missing:\n%s", code, out)
	}
	code, out, _ = runGate(t, ratioArgs(noAVX512, "-levels", "generic,avx2,avx512")...)
	if code != 1 || !strings.Contains(out, "FAIL: level avx512 is supported") || !strings.Contains(out, "missing, and the machine supports the level") {
		t.Fatalf("avx512 supported but absent: exit %d, want 1:\n%s", code, out)
	}
	if code, out, _ := runGate(t, ratioArgs(slowMachine, "-levels", "generic,avx2,avx512")...); code != 0 {
		t.Fatalf("every supported level present: exit %d:\n%s", code, out)
	}

	// One kernel of one level 1.3× slower: it fails, nothing else does.
	one := writeRaw(t, "one.txt", 10, levels, cost, map[string]float64{"avx512/relu": 1.3}, 1, r)
	code, out, _ = runGate(t, ratioArgs(one)...)
	if f := failing(out); code != 1 || len(f) != 1 || f[0] != "Relu/impl=avx512/n=3200" {
		t.Fatalf("avx512 ReLU 1.3× slower: exit %d, failing %q, want only it:\n%s", code, f, out)
	}

	// The same kernel 1.3× slower on every level at once, generic too:
	// a speedup over generic would not move.
	all := writeRaw(t, "all.txt", 10, levels, cost, map[string]float64{"generic/relu": 1.3, "avx2/relu": 1.3, "avx512/relu": 1.3}, 1, r)
	code, out, _ = runGate(t, ratioArgs(all)...)
	if f := failing(out); code != 1 || len(f) != 3 {
		t.Fatalf("ReLU 1.3× slower on every level: exit %d, failing %q, want the three:\n%s", code, f, out)
	}

	// A faster generic is no regression of the others.
	fast := writeRaw(t, "fastgeneric.txt", 10, levels, cost, map[string]float64{"generic/relu": 0.5, "generic/sgemm": 0.5}, 1, r)
	if code, out, _ := runGate(t, ratioArgs(fast)...); code != 0 {
		t.Fatalf("a faster generic failed the gate (exit %d):\n%s", code, out)
	}
}

func TestRatiosPrint(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	cost := map[string]float64{"generic": 1, "avx2": 0.1, "avx512": 0.05}
	raw := writeRaw(t, "raw.txt", 4, levels, cost, nil, 1, r)
	code, out, errOut := runGate(t, "-ratios", "-new", raw)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 4 rounds × (2 shapes + ReLU) × 2 levels speedups; 4 rounds × 3
	// benchmarks × 3 levels peak costs; 4 rounds × 2 shapes × 3 levels
	// peak fractions.
	for unit, want := range map[string]int{"speedup": 24, "peakflops/op": 36, "peak-fraction": 24} {
		if n := strings.Count(out, " "+unit+"\n"); n != want {
			t.Errorf("%d %s lines, want %d:\n%s", n, unit, want, out)
		}
	}
	if !strings.Contains(out, "pkg: example.com/kernels\n") {
		t.Errorf("configuration not carried over:\n%s", out)
	}
}

// TestBestBimodal: on a shared machine some rounds run on a core whose
// neighbour slows loads and stores (ReLU 1.5× slower) but not the FMA peak.
// The best values see through it where medians cannot tell it from a
// regression; a real 1.3× slowdown still fails.
func TestBestBimodal(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	cost := map[string]float64{"generic": 1, "avx2": 0.1, "avx512": 0.05}
	// write writes rounds of which the first slowRounds are in the slow
	// mode.
	write := func(name string, rounds, slowRounds int, slowdown float64) string {
		var b strings.Builder
		for i := range rounds {
			mode := 1.0
			if i < slowRounds {
				mode = 1.5
			}
			for _, l := range levels {
				if p, ok := peakGFLOPs[l]; ok {
					fmt.Fprintf(&b, "BenchmarkFMAPeak/impl=%s/threads=1\t10\t1000 ns/op\t%.2f GFLOP/s\n", l, noisy(r, p, 0.03))
				}
				fmt.Fprintf(&b, "BenchmarkRelu/impl=%s/n=3200\t1000\t%.1f ns/op\n", l, noisy(r, 5000*cost[l]*mode*slowdown, 0.03))
			}
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := write("base.txt", 20, 4, 1)
	args := func(p string) []string {
		return []string{"-ratios", "-best", "-old", base, "-new", p, "-threshold", "15%"}
	}
	// Seven of ten rounds in the slow mode: medians call it a 50% loss.
	noisyRun := write("noisy.txt", 10, 7, 1)
	if code, out, _ := runGate(t, "-ratios", "-old", base, "-new", noisyRun, "-threshold", "15%", "-alpha", "0.01"); code != 1 {
		t.Fatalf("medians over a mostly slow run: exit %d, want 1 (the case -best is for):\n%s", code, out)
	}
	if code, out, _ := runGate(t, args(noisyRun)...); code != 0 {
		t.Fatalf("-best over a mostly slow run: exit %d, want 0:\n%s", code, out)
	}
	// A real 1.3× slowdown of every level, in a run with slow rounds too.
	slow := write("slow.txt", 10, 3, 1.3)
	code, out, _ := runGate(t, args(slow)...)
	if f := failing(out); code != 1 || len(f) != 3 {
		t.Fatalf("-best over ReLU 1.3× slower: exit %d, failing %q, want the three levels:\n%s", code, f, out)
	}
	if !strings.Contains(out, "(best)") {
		t.Errorf("best values not labelled:\n%s", out)
	}
}

// TestOwnPeakFractions: bench's epoch benchmarks run in a test binary of
// their own and report peak-fraction against the peak they measured
// themselves. In a file beside the kernel suite, those fractions are kept
// as they are (no peak cost from the kernel suite's FMAPeak rows, whose
// rounds need not pair with theirs) and gated by default.
func TestOwnPeakFractions(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	epochs := []string{"EpochThreads/impl=avx2/batch=32/threads=1", "EpochThreads/impl=avx512/batch=32/threads=1", "EpochThreads/impl=avx512/batch=256/threads=2"}
	// write writes 10 rounds: the FMA peak and ReLU of two levels, then
	// the epochs with their own fractions (0.4 unless drop names one,
	// which then reaches 0.4·factor) and times that vary with the load.
	write := func(name, drop string, factor float64) string {
		var b strings.Builder
		b.WriteString("pkg: example.com/kernels\n")
		for range 10 {
			for _, l := range []string{"avx2", "avx512"} {
				fmt.Fprintf(&b, "BenchmarkFMAPeak/impl=%s/threads=1\t10\t1000 ns/op\t%.2f GFLOP/s\n", l, noisy(r, peakGFLOPs[l], 0.03))
				fmt.Fprintf(&b, "BenchmarkRelu/impl=%s/n=3200\t1000\t%.1f ns/op\n", l, noisy(r, 500, 0.03))
			}
		}
		b.WriteString("pkg: example.com/bench\n")
		for range 10 {
			load := noisy(r, 1.5, 0.4)
			for _, e := range epochs {
				f := 0.4
				if e == drop {
					f *= factor
				}
				fmt.Fprintf(&b, "Benchmark%s-2\t1\t%.0f ns/op\t%.4f peak-fraction\n", e, 1e8*load/f, noisy(r, f, 0.02))
			}
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := write("base.txt", "", 1)
	code, out, errOut := runGate(t, "-ratios", "-new", base)
	if code != 0 {
		t.Fatalf("gate -ratios -new: exit %d: %s", code, errOut)
	}
	for _, e := range epochs {
		if n := strings.Count(out, "Benchmark"+e+"\t1\t"); n != 10 {
			t.Errorf("%s: %d lines, want its 10 own peak fractions:\n%s", e, n, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "Epoch") && !strings.HasSuffix(l, " peak-fraction") {
			t.Errorf("an epoch benchmark got a ratio from the kernel suite's peak: %q", l)
		}
	}
	args := func(p string) []string {
		return []string{"-ratios", "-best", "-old", base, "-new", p, "-threshold", "15%"}
	}
	code, out, _ = runGate(t, args(write("same.txt", "", 1))...)
	if code != 0 || !strings.Contains(out, "5 compared") {
		t.Fatalf("an unchanged run: exit %d, want 0 with 2 ReLU peak costs and 3 epoch fractions compared:\n%s", code, out)
	}
	code, out, _ = runGate(t, args(write("slow.txt", epochs[1], 0.75))...)
	var f []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "FAIL") && strings.HasPrefix(l, "Epoch") {
			f = append(f, strings.Fields(l)[0])
		}
	}
	if code != 1 || len(f) != 1 || f[0] != epochs[1] {
		t.Fatalf("one epoch at 0.75 of its fraction: exit %d, failing %q, want only %s:\n%s", code, f, epochs[1], out)
	}
}
