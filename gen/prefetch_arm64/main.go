// Command prefetch_arm64 generates kernels/asm/prefetch_arm64.s: the
// software prefetch of a batch's rows that kernels.PrefetchRows issues
// ahead of GatherRows, the counterpart of gen/prefetch_amd64. Go's arm64
// assembler knows PRFM, so every instruction is a mnemonic and none a
// WORD.
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	"github.com/simdmlp/simdmlp/gen/neon"
)

// line is the step between two prefetches: 64 bytes, the cache line of
// the Cortex-A and Neoverse cores. A core with longer lines (Apple's 128
// bytes) gets each line asked for twice, which costs an instruction and
// nothing else.
const line = 64

func main() {
	out := flag.String("out", "", "assembly output file")
	stubs := flag.String("stubs", "", "Go declarations output file")
	pkg := flag.String("pkg", "asm", "package of the declarations")
	flag.Parse()

	var f neon.File
	f.Text(&neon.Func{Name: "PrefetchRowsARM64", Sig: "func(src []float32, cols int, idx []int)", Doc: []string{
		"PrefetchRowsARM64 issues a PRFM PLDL1KEEP for every 64-byte line of the",
		"rows idx[k] of src, whose rows hold cols float32 values, in the order",
		"of idx, from the line that holds a row's first byte to the one that",
		"holds its last. It reads only idx and writes nothing. The caller",
		"checks cols ≥ 1 and every index (0 ≤ idx[k] < len(src)/cols).",
	}})
	f.I("MOVD %s, R0", f.Arg("src_base"))
	f.I("MOVD %s, R1", f.Arg("cols"))
	f.I("LSL $2, R1, R1") // bytes per row
	f.I("MOVD %s, R2", f.Arg("idx_base"))
	f.I("MOVD %s, R3", f.Arg("idx_len"))
	f.I("CBZ R3, %s", f.L("done"))
	f.Label("row")
	f.I("MOVD.P 8(R2), R4")
	f.I("MUL R1, R4, R4")
	f.I("ADD R0, R4, R4") // the row's first byte
	f.I("ADD R1, R4, R5") // one past its last
	f.I("AND $-%d, R4, R4", line)
	f.Label("line")
	f.I("PRFM (R4), PLDL1KEEP")
	f.I("ADD $%d, R4, R4", line)
	f.I("CMP R5, R4")
	f.I("BLO %s", f.L("line"))
	f.I("SUBS $1, R3, R3")
	f.I("BNE %s", f.L("row"))
	f.Label("done")
	f.I("RET")
	cmd := "go run main.go " + strings.Join(os.Args[1:], " ")
	if err := f.Write(cmd, *out, *stubs, *pkg); err != nil {
		log.Fatal(err)
	}
}
