package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// threadCounts are the SetThreads values every result must agree across:
// one core, the machine's two, and counts that leave uneven blocks.
var threadCounts = []int{1, 2, 3, 4, 7}

// setThreads sets the thread count for the rest of the test.
func setThreads(t testing.TB, n int) {
	prev := SetThreads(n)
	t.Cleanup(func() { SetThreads(prev) })
}

// splitEverything lowers the split threshold so that even small products
// are split into as many parts as threads and tiles allow, which puts the
// block edges on every tail the shapes have.
func splitEverything(t testing.TB) {
	prev := minPartMACs
	minPartMACs = 1
	t.Cleanup(func() { minPartMACs = prev })
}

func TestSetThreads(t *testing.T) {
	setThreads(t, 0)
	def := max(1, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	if got := Threads(); got != def {
		t.Fatalf("default Threads() = %d, want min(GOMAXPROCS, NumCPU) = %d", got, def)
	}
	if prev := SetThreads(3); prev != 0 {
		t.Fatalf("SetThreads(3) after the default returned %d, want 0", prev)
	}
	if got := Threads(); got != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", got)
	}
	if prev := SetThreads(-5); prev != 3 {
		t.Fatalf("SetThreads(-5) returned %d, want 3", prev)
	}
	if got := Threads(); got != def {
		t.Fatalf("Threads() = %d after SetThreads(-5), want the default %d", got, def)
	}
	SetThreads(1 << 20)
	if got := Threads(); got != maxThreads {
		t.Fatalf("Threads() = %d after SetThreads(1<<20), want the cap %d", got, maxThreads)
	}
}

// TestSplitParts pins where work starts to use a second core: never for
// the trainer's batch-32 products, always for its batch-256 ones.
func TestSplitParts(t *testing.T) {
	setThreads(t, 2)
	for _, c := range []struct {
		name             string
		macs, units, per int
		want             int
	}{
		{"batch 32 forward", 32 * 100 * 784, 4, 2, 1},
		{"batch 32 dW", 784 * 100 * 32, 98, 2, 1},
		{"batch 256 forward", 256 * 100 * 784, 32, 2, 4},
		{"batch 256 dW", 784 * 100 * 256, 98, 2, 4},
		{"batch 128 forward", 128 * 100 * 784, 16, 2, 2},
		{"packed square", 1024 * 1024 * 1024, 86, 1, 2},
		{"one tile", 1 << 30, 1, 2, 1},
		{"three tiles", 1 << 30, 3, 2, 3},
	} {
		if got, _ := splitParts(c.macs, c.units, c.per); got != c.want {
			t.Errorf("%s: splitParts(%d, %d, %d) = %d with 2 threads, want %d", c.name, c.macs, c.units, c.per, got, c.want)
		}
	}
	SetThreads(1)
	if got, _ := splitParts(1<<30, 100, 2); got != 1 {
		t.Errorf("splitParts(1<<30, 100, 2) = %d with 1 thread, want 1", got)
	}
	SetThreads(7)
	if got, th := splitParts(1<<30, 100, 2); got != 14 || th != 7 {
		t.Errorf("splitParts(1<<30, 100, 2) = %d, %d with 7 threads, want 14, 7", got, th)
	}
}

// countingBody records how often each part ran, and checks the slot
// numbers: below the thread count, and never two parts at once on one.
type countingBody struct {
	runs    []atomic.Int32
	threads int
	busy    [64]atomic.Int32
	bad     atomic.Value
}

func (c *countingBody) part(i, n, slot int) {
	if n != len(c.runs) || slot < 0 || slot >= c.threads {
		c.bad.Store(fmt.Sprintf("part(%d, %d, slot %d) of a %d-part fork on %d threads", i, n, slot, len(c.runs), c.threads))
		return
	}
	if c.busy[slot].Add(1) != 1 {
		c.bad.Store(fmt.Sprintf("slot %d runs two parts at once", slot))
	}
	c.runs[i].Add(1)
	runtime.Gosched()
	c.busy[slot].Add(-1)
}

// TestForkRunsEveryPartOnce checks the pool's contract and that workers
// really take parts: a fork of n parts offered to idle workers must hand
// at least one of them over.
func TestForkRunsEveryPartOnce(t *testing.T) {
	for _, parts := range []int{1, 2, 3, 8, 33} {
		var f fork
		handed := false
		threads := min(parts, 4)
		// A worker takes a fork only once it has started and is idle, and
		// on a loaded machine its thread may wait for a core: retry for
		// up to ten seconds, sleeping in between so that it can park.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			body := &countingBody{runs: make([]atomic.Int32, parts), threads: threads}
			before := workersTook.Load()
			f.run(body, parts, threads)
			if msg := body.bad.Load(); msg != nil {
				t.Fatal(msg)
			}
			for i := range body.runs {
				if n := body.runs[i].Load(); n != 1 {
					t.Fatalf("%d parts: part %d ran %d times", parts, i, n)
				}
			}
			if parts == 1 || workersTook.Load() > before {
				handed = true
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		if parts > 1 && !handed {
			t.Errorf("%d parts: no worker ever took a fork", parts)
		}
	}
}

// gemmSplitShapes are the shapes the thread tests run: tails around the
// level's tile, the trainer's products at batch 32 and 256, and random
// ones.
func gemmSplitShapes(r *rand.Rand, g *gemmKernel) [][3]int {
	mn := []int{1, g.MR - 1, g.MR + 1, 2*g.MR + 1, g.NR + 1, 2*g.NR + 3, 97}
	var s [][3]int
	for _, m := range mn {
		for _, n := range mn {
			s = append(s, [3]int{m, n, 1 + (m*7+n)%40})
		}
	}
	s = append(s, [3]int{3*g.MR + 5, 2*g.NR + 1, g.KC + 1}, [3]int{32, 100, 784}, [3]int{32, 10, 100},
		[3]int{256, 100, 784}, [3]int{256, 784, 100}, [3]int{784, 100, 256}, [3]int{300, 37, 50})
	for range 4 {
		s = append(s, [3]int{1 + r.IntN(200), 1 + r.IntN(200), 1 + r.IntN(300)})
	}
	return s
}

// TestSgemmThreadsBitIdentical requires every thread count to give the
// same bits as one thread, on every level, shape, transposition and
// alpha/beta pair, with the split threshold lowered so that every shape
// is split; and the threaded result to be right.
func TestSgemmThreadsBitIdentical(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, g *gemmKernel) {
		splitEverything(t)
		r := rand.New(rand.NewPCG(41, 42))
		cs := 0
		for _, s := range gemmSplitShapes(r, g) {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				sc := gemmScalars[cs%len(gemmScalars)]
				cs++
				gc := newGemmCase(r, tr[0], tr[1], s[0], s[1], s[2], sc[0], sc[1], cs%3 != 0)
				var want []float32
				for _, th := range threadCounts {
					SetThreads(th)
					copy(gc.cbuf, gc.c0)
					before := forkedParts.Load()
					gc.run()
					if th == 1 {
						want = append([]float32(nil), gc.cbuf...)
						continue
					}
					if i := firstDiff(gc.cbuf, want); i >= 0 {
						t.Fatalf("%v: threads=%d: cbuf[%d] = %v, one thread gives %v", gc, th, i, gc.cbuf[i], want[i])
					}
					// Large enough to split on any level and path.
					splittable := sc[0] != 0 && s[0] > 64 && s[1] > 64 && s[2] > 0
					if splittable && forkedParts.Load() == before {
						t.Fatalf("%v: threads=%d: the call was not split", gc, th)
					}
				}
				gc.check(t)
			}
		}
	})
}

// TestDenseForwardThreadsBitIdentical is the same for the dense layer,
// whose fused path splits its own rows.
func TestDenseForwardThreadsBitIdentical(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		splitEverything(t)
		r := rand.New(rand.NewPCG(43, 44))
		cs := 0
		for _, s := range [][3]int{{1, 5, 3}, {9, 17, 33}, {31, 100, 784}, {256, 100, 784}, {97, 10, 100}, {300, 37, 0}} {
			for _, act := range allActivations {
				cs++
				d := newDenseCase(r, act, s[0], s[1], s[2], cs%2 == 0)
				y0 := clone(d.ybuf)
				var want []float32
				for _, th := range threadCounts {
					SetThreads(th)
					copy(d.ybuf, y0)
					d.run()
					if th == 1 {
						want = clone(d.ybuf)
						continue
					}
					if i := firstDiff(d.ybuf, want); i >= 0 {
						t.Fatalf("%v: threads=%d: ybuf[%d] = %v, one thread gives %v", d, th, i, d.ybuf[i], want[i])
					}
				}
				d.checkOutside(t)
			}
		}
	})
}

// TestSgemmThreadsConcurrent runs split products from several goroutines
// at once (run it under -race too): callers share the pool, each part
// needs its own workspace, and every result must equal the one computed
// on one thread, bit for bit.
func TestSgemmThreadsConcurrent(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, g *gemmKernel) {
		splitEverything(t)
		setThreads(t, 1)
		r := rand.New(rand.NewPCG(45, 46))
		var cases []*gemmCase
		var want [][]float32
		for i, s := range [][3]int{{97, 61, 40}, {256, 100, 78}, {30, 200, 33}, {2*g.MR + 1, 2*g.NR + 3, 17}} {
			gc := newGemmCase(r, i%2 == 1, i/2 == 1, s[0], s[1], s[2], 1, 0.5, true)
			gc.run()
			want = append(want, append([]float32(nil), gc.cbuf...))
			cases = append(cases, gc)
		}
		SetThreads(3)
		const callers = 4
		var wg sync.WaitGroup
		errs := make(chan string, callers)
		for w := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for rep := range 4 {
					i := (w + rep) % len(cases)
					gc := cases[i]
					c := clone(gc.c0)
					Sgemm(gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, gc.a, gc.lda, gc.b, gc.ldb, gc.beta, c[gc.coff:len(c)-gemmGuard], gc.ldc)
					if j := firstDiff(c, want[i]); j >= 0 {
						errs <- fmt.Sprintf("%v: concurrent threaded result differs at %d", gc, j)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		var msgs []string
		for e := range errs {
			msgs = append(msgs, e)
		}
		if len(msgs) > 0 {
			t.Fatal(strings.Join(msgs, "\n"))
		}
	})
}

// TestSgemmThreadsAllocs requires split products, on the packed and the
// unpacked paths, to allocate nothing once warmed up.
func TestSgemmThreadsAllocs(t *testing.T) {
	forEachGemmLevel(t, func(t *testing.T, _ *gemmKernel) {
		setThreads(t, 2)
		r := rand.New(rand.NewPCG(47, 48))
		for _, s := range []struct {
			m, n, k        int
			transA, transB bool
		}{
			{256, 100, 784, false, false},
			{784, 100, 256, true, false},
			{256, 784, 100, false, true},
			{300, 300, 300, true, true},
		} {
			gc := newGemmCase(r, s.transA, s.transB, s.m, s.n, s.k, 1, 0.5, false)
			before := forkedParts.Load()
			if n := testing.AllocsPerRun(5, gc.run); n != 0 {
				t.Errorf("%s: %v allocations per call with 2 threads", gemmShapeName(s.m, s.n, s.k, s.transA, s.transB), n)
			}
			if forkedParts.Load() == before {
				t.Errorf("%s: not split with 2 threads", gemmShapeName(s.m, s.n, s.k, s.transA, s.transB))
			}
		}
		for _, act := range allActivations {
			d := newDenseCase(r, act, 256, 100, 784, false)
			before := forkedParts.Load()
			if n := testing.AllocsPerRun(5, d.run); n != 0 {
				t.Errorf("%v: %v allocations per call with 2 threads", d, n)
			}
			if forkedParts.Load() == before {
				t.Errorf("%v: not split with 2 threads", d)
			}
		}
	})
}

// spinBody's parts each spin for a fixed number of iterations.
type spinBody struct {
	iters int
	sink  [64]atomic.Int64
}

func (s *spinBody) part(i, n, _ int) {
	x := int64(i)
	for k := range s.iters {
		x = x*6364136223846793005 + int64(k)
	}
	s.sink[i%len(s.sink)].Store(x)
}

// BenchmarkFork measures the pool's overhead: a fork of two parts of
// about 0, 10 and 100 µs each, with one and two threads. With parts of
// zero work it is the round trip of waking a parked worker.
func BenchmarkFork(b *testing.B) {
	for _, iters := range []int{0, 30000, 300000} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("iters=%d/threads=%d", iters, threads), func(b *testing.B) {
				var f fork
				body := &spinBody{iters: iters}
				for b.Loop() {
					f.run(body, 2, threads)
				}
			})
		}
	}
}

func ExampleSetThreads() {
	// Use two cores for the large products of this run, then restore
	// whatever was set before (0, the default, unless changed).
	defer SetThreads(SetThreads(2))
	fmt.Println(Threads())
	// Output: 2
}
