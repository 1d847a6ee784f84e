// Command peak_neon generates kernels/asm/peak_neon_arm64.s: the FMA loop
// that measures an arm64 core's 128-bit peak, the counterpart of the AVX
// loops of avx.GeneratePeak.
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	"github.com/simdmlp/simdmlp/gen/neon"
)

// chains is the number of independent accumulators, V0–V23: more than
// FMLA latency (4 cycles) times the FMA units of the widest current cores
// (4), and leaves V30 and V31 for the operands.
const chains = 24

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	f.Text(&neon.Func{Name: "FMAPeakNEON", Sig: "func(iters int)", Doc: []string{
		"FMAPeakNEON runs iters rounds of 24 independent fused multiply-adds on",
		"4-lane float32 vectors, 192 floating-point operations a round, and",
		"nothing else: the measure of the core's peak that the benchmarks and the",
		"performance gate divide by. The chains outnumber what FMLA latency times",
		"the FMA units needs, so the units, not the chains, set the pace.",
	}})
	// Each accumulator grows by 2⁻¹⁰·2⁻¹⁰ a round: never a subnormal,
	// never an infinity, however long the loop runs.
	f.I("MOVW $0x3a800000, R9")
	f.I("VDUP R9, V30.S4")
	f.I("VDUP R9, V31.S4")
	for v := range chains {
		f.I("VEOR V%d.B16, V%d.B16, V%d.B16", v, v, v)
	}
	f.I("MOVD %s, R10", f.Arg("iters"))
	f.I("CMP $0, R10")
	f.I("BLE %s", f.L("done"))
	f.Label("loop")
	for v := range chains {
		f.I("VFMLA V31.S4, V30.S4, V%d.S4", v)
	}
	f.I("SUBS $1, R10, R10")
	f.I("BNE %s", f.L("loop"))
	f.Label("done")
	f.I("RET")
	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}
