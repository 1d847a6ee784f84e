//go:build race

package mlp

// raceEnabled reports a -race build, whose instrumentation makes
// allocation counts vary from run to run.
const raceEnabled = true
