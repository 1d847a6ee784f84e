package mlp

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
	"github.com/simdmlp/simdmlp/optim"
)

// TestFitThreadsBitIdentical trains the tutorial's model from the same
// weights with one and with two threads, at batch 32 (whose products stay
// on one core) and batch 256 (whose large products are split), on every
// kernel level, and requires the trained weights to agree bit for bit.
func TestFitThreadsBitIdentical(t *testing.T) {
	x, y := synth(1024, 784, 10, 5)
	for _, level := range kernels.Available() {
		for _, bs := range []int{32, 256} {
			t.Run(fmt.Sprintf("%s/batch=%d", level, bs), func(t *testing.T) {
				restore, err := kernels.Use(level)
				if err != nil {
					t.Fatal(err)
				}
				defer restore()
				var want [][]float32
				for _, threads := range []int{1, 2} {
					prev := kernels.SetThreads(threads)
					SetRandomSeed(3)
					m := tutorialModel(t, optim.Adam{})
					_, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: bs, Verbose: VerboseSilent, Seed: 9})
					kernels.SetThreads(prev)
					if err != nil {
						t.Fatal(err)
					}
					got := m.Weights()
					if threads == 1 {
						want = got
						continue
					}
					for i := range want {
						for j := range want[i] {
							if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
								t.Fatalf("weights[%d][%d] = %v with 2 threads, %v with 1", i, j, got[i][j], want[i][j])
							}
						}
					}
				}
			})
		}
	}
}

// TestTrainOnBatchThreadsAllocs requires a warmed-up training step to
// allocate nothing when its products are split over two threads.
func TestTrainOnBatchThreadsAllocs(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(2))
	x, y := synth(256, 784, 10, 6)
	m := tutorialModel(t, optim.Adam{})
	if _, _, err := m.TrainOnBatch(x, y); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(10, func() {
		if _, _, err := m.TrainOnBatch(x, y); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("TrainOnBatch at batch 256 with 2 threads allocates %v times per call", a)
	}
}

// BenchmarkFitEpochThreads is BenchmarkFitEpoch at batch 32 and 256 with
// one and two threads. The threads=2 figures need GOMAXPROCS ≥ 2.
func BenchmarkFitEpochThreads(b *testing.B) {
	x, y := benchData(48000)
	for _, bs := range []int{32, 256} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("batch=%d/threads=%d", bs, threads), func(b *testing.B) {
				if runtime.GOMAXPROCS(0) < threads {
					b.Skipf("GOMAXPROCS=%d < %d threads", runtime.GOMAXPROCS(0), threads)
				}
				defer kernels.SetThreads(kernels.SetThreads(threads))
				m := tutorialModel(b, optim.Adam{})
				cfg := FitConfig{Verbose: VerboseSilent, Seed: 1, BatchSize: bs}
				if _, err := m.Fit(x[:2*bs*784], y[:2*bs], cfg); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Fit(x, y, cfg); err != nil {
						b.Fatal(err)
					}
				}
				steps := (len(y) + bs - 1) / bs
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(steps), "ns/step")
			})
		}
	}
}
