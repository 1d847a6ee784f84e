package avx

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestVPDPBUSDBytes checks the hand-made VEX encoding of VPDPBUSD against
// llvm-mc's for every register in every position (one at a time, the
// others cycling), since Go's assembler cannot check BYTE directives.
func TestVPDPBUSDBytes(t *testing.T) {
	mc, err := exec.LookPath("llvm-mc-14")
	if err != nil {
		if mc, err = exec.LookPath("llvm-mc"); err != nil {
			t.Skip("LLVM-MC NOT FOUND: the AVX-VNNI encoding is not checked")
		}
	}
	type triple struct{ acc, a, w int }
	var cases []triple
	for r := range 16 {
		cases = append(cases, triple{r, (r + 5) % 16, (r + 11) % 16}, triple{(r + 3) % 16, r, (r + 9) % 16}, triple{(r + 7) % 16, (r + 13) % 16, r})
	}
	var src strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&src, "{vex} vpdpbusd %%ymm%d, %%ymm%d, %%ymm%d\n", c.w, c.a, c.acc) // AT&T: src2, src1, dst
	}
	cmd := exec.Command(mc, "-triple=x86_64", "-show-encoding", "-mattr=+avxvnni")
	cmd.Stdin = strings.NewReader(src.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("llvm-mc: %v\n%s", err, out)
	}
	enc := regexp.MustCompile(`encoding: \[([^\]]*)\]`).FindAllStringSubmatch(string(out), -1)
	if len(enc) != len(cases) {
		t.Fatalf("llvm-mc gave %d encodings for %d instructions:\n%s", len(enc), len(cases), out)
	}
	for i, c := range cases {
		var want []byte
		for _, f := range strings.Split(enc[i][1], ",") {
			var b byte
			fmt.Sscanf(strings.TrimSpace(f), "0x%x", &b)
			want = append(want, b)
		}
		if got := VPDPBUSDBytes(c.acc, c.a, c.w); !bytes.Equal(got, want) {
			t.Errorf("vpdpbusd acc=ymm%d a=ymm%d w=ymm%d: % x, llvm-mc % x", c.acc, c.a, c.w, got, want)
		}
	}
}
