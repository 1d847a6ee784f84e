// Command prefetch_amd64 generates kernels/asm/prefetch_amd64.s: the
// software prefetch of a batch's rows that kernels.PrefetchRows issues
// ahead of GatherRows.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

// line is the cache line size of every x86-64 core: a prefetch fetches
// the whole line around its address.
const line = 64

func main() {
	avx.Setup()
	// T0, T1, T2 and NTA measured alike in kernels' BenchmarkGatherPrefetch
	// and in Fit's steps on Zen 5, within the noise; T0 asks for the
	// nearest cache, where GatherRows reads.
	prefetchRows("PrefetchRowsT0", "PREFETCHT0", PREFETCHT0)
	Generate()
}

// prefetchRows emits name(src []float32, cols int, idx []int): one
// prefetch (the instruction mnemonic) per cache line of each row idx[k]
// of src (rows of cols float32), from the line that holds the row's
// first byte to the one that holds its last, so a row that does not start on a line boundary
// is covered whole and no line outside the rows is asked for.
func prefetchRows(name, mnemonic string, prefetch func(Op)) {
	TEXT(name, NOSPLIT, "func(src []float32, cols int, idx []int)")
	Doc(
		fmt.Sprintf("%s issues a %s for every %d-byte cache line", name, mnemonic, line),
		"of the rows idx[k] of src, whose rows hold cols float32 values, in the",
		"order of idx. It reads only idx and writes nothing. The caller checks",
		"cols ≥ 1 and every index (0 ≤ idx[k] < len(src)/cols).",
	)
	src := Load(Param("src").Base(), GP64())
	rowBytes := Load(Param("cols"), GP64())
	SHLQ(U8(2), rowBytes)
	p := Load(Param("idx").Base(), GP64())
	n := Load(Param("idx").Len(), GP64())
	TESTQ(n, n)
	JZ(LabelRef("done"))

	Label("row")
	a := GP64()
	MOVQ(Mem{Base: p}, a)
	IMULQ(rowBytes, a)
	ADDQ(src, a)
	end := GP64()
	LEAQ(Mem{Base: a, Index: rowBytes, Scale: 1}, end)
	ANDQ(I8(-line), a)
	Label("line")
	prefetch(Mem{Base: a})
	ADDQ(U8(line), a)
	CMPQ(a, end)
	JB(LabelRef("line"))
	ADDQ(U8(8), p)
	DECQ(n)
	JNZ(LabelRef("row"))

	Label("done")
	RET()
}
