package mlp

import (
	"math/rand/v2"
	"strconv"
	"sync"
)

// global holds the state Keras keeps per process: the name counters and the
// random generator that seeds weight initialisation and shuffling.
var global struct {
	mu    sync.Mutex
	names map[string]int
	rng   *rand.Rand
}

// uniqueName returns base for its first use, then base_1, base_2, …: Keras's
// zero-based per-name counter.
func uniqueName(base string) string {
	global.mu.Lock()
	defer global.mu.Unlock()
	if global.names == nil {
		global.names = make(map[string]int)
	}
	k := global.names[base]
	global.names[base] = k + 1
	if k == 0 {
		return base
	}
	return base + "_" + strconv.Itoa(k)
}

// ResetNames resets the automatic name counters, as
// keras.backend.clear_session() does: the next auto-named Dense layer is
// "dense" again, the next model "sequential". Models and layers that exist
// keep their names.
func ResetNames() {
	global.mu.Lock()
	defer global.mu.Unlock()
	global.names = nil
}

// SetRandomSeed seeds the process-wide generator from which every layer
// draws its initial weights (when its model is built) and every Fit without
// FitConfig.Seed draws its shuffling seed, like
// tf.keras.utils.set_random_seed. After the same seed, the same sequence of
// model constructions and fits gives bit-identical weights on the same
// kernel level. Without it, the generator is seeded randomly at start-up.
//
// The generator is our own (PCG), so the weights are not TensorFlow's for
// the same seed; only their distribution matches.
func SetRandomSeed(seed uint64) {
	global.mu.Lock()
	defer global.mu.Unlock()
	global.rng = rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// drawSeed returns a fresh 64-bit seed from the global generator.
func drawSeed() uint64 {
	global.mu.Lock()
	defer global.mu.Unlock()
	if global.rng == nil {
		// math/rand/v2's top-level functions are seeded randomly per process.
		global.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return global.rng.Uint64()
}
