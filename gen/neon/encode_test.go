package neon

import (
	"strings"
	"testing"
)

// The expected words are the Arm ARM encodings of each instruction with
// the operands shown (as LLVM's assembler writes them, little-endian
// bytes read as one word).
func TestEncodings(t *testing.T) {
	cases := []struct {
		got  Word
		bits uint32
		asm  string
	}{
		{FADD(1, 2, 3), 0x4e23d441, "fadd v1.4s, v2.4s, v3.4s"},
		{FSUB(1, 2, 3), 0x4ea3d441, "fsub v1.4s, v2.4s, v3.4s"},
		{FMUL(1, 2, 3), 0x6e23dc41, "fmul v1.4s, v2.4s, v3.4s"},
		{FDIV(1, 2, 3), 0x6e23fc41, "fdiv v1.4s, v2.4s, v3.4s"},
		{FMAX(1, 2, 3), 0x4e23f441, "fmax v1.4s, v2.4s, v3.4s"},
		{FMIN(1, 2, 3), 0x4ea3f441, "fmin v1.4s, v2.4s, v3.4s"},
		{FMLA(1, 2, 3), 0x4e23cc41, "fmla v1.4s, v2.4s, v3.4s"},
		{FMLS(1, 2, 3), 0x4ea3cc41, "fmls v1.4s, v2.4s, v3.4s"},
		{FCMGT(1, 2, 3), 0x6ea3e441, "fcmgt v1.4s, v2.4s, v3.4s"},
		{FCMGE(1, 2, 3), 0x6e23e441, "fcmge v1.4s, v2.4s, v3.4s"},
		{FCMEQ(1, 2, 3), 0x4e23e441, "fcmeq v1.4s, v2.4s, v3.4s"},
		{FADDP(1, 2, 3), 0x6e23d441, "faddp v1.4s, v2.4s, v3.4s"},
		{FRECPE(1, 2), 0x4ea1d841, "frecpe v1.4s, v2.4s"},
		{FRECPS(1, 2, 3), 0x4e23fc41, "frecps v1.4s, v2.4s, v3.4s"},
		{SCVTF(1, 2), 0x4e21d841, "scvtf v1.4s, v2.4s"},
		{FCVTZS(1, 2), 0x4ea1b841, "fcvtzs v1.4s, v2.4s"},
		{FCVTNS(1, 2), 0x4e21a841, "fcvtns v1.4s, v2.4s"},
		{FRINTN(1, 2), 0x4e218841, "frintn v1.4s, v2.4s"},
		{FNEG(1, 2), 0x6ea0f841, "fneg v1.4s, v2.4s"},
		{FABS(1, 2), 0x4ea0f841, "fabs v1.4s, v2.4s"},
		{FSQRT(1, 2), 0x6ea1f841, "fsqrt v1.4s, v2.4s"},
		{FMLAElem(1, 2, 31, 3), 0x4fbf1841, "fmla v1.4s, v2.4s, v31.s[3]"},
		{FMLAElem(0, 26, 24, 2), 0x4f981b40, "fmla v0.4s, v26.4s, v24.s[2]"},
		{FMULElem(1, 2, 17, 1), 0x4fb19041, "fmul v1.4s, v2.4s, v17.s[1]"},
		{FADDPScalar(1, 2), 0x7e30d841, "faddp s1, v2.2s"},
		{FMAXV(1, 2), 0x6e30f841, "fmaxv s1, v2.4s"},
		{SSHR(1, 2, 31), 0x4f210441, "sshr v1.4s, v2.4s, #31"},
		{SSHR(1, 2, 1), 0x4f3f0441, "sshr v1.4s, v2.4s, #1"},
		{FCVTL(1, 2), 0x0e617841, "fcvtl v1.2d, v2.2s"},
		{FCVTL2(1, 2), 0x4e617841, "fcvtl2 v1.2d, v2.4s"},
		{FMLA2D(1, 2, 3), 0x4e63cc41, "fmla v1.2d, v2.2d, v3.2d"},
		{FADD2D(1, 2, 3), 0x4e63d441, "fadd v1.2d, v2.2d, v3.2d"},
		{FMUL2D(1, 2, 3), 0x6e63dc41, "fmul v1.2d, v2.2d, v3.2d"},
		{FCVTN(1, 2), 0x0e616841, "fcvtn v1.2s, v2.2d"},
		{FCVTN2(1, 2), 0x4e616841, "fcvtn2 v1.4s, v2.2d"},
		{FADDPScalar2D(1, 2), 0x7e70d841, "faddp d1, v2.2d"},
		{FADD(31, 31, 31), 0x4e3fd7ff, "fadd v31.4s, v31.4s, v31.4s"},
		{MUL(1, 2, 3), 0x4ea39c41, "mul v1.4s, v2.4s, v3.4s"},
		{MUL(31, 0, 18), 0x4eb29c1f, "mul v31.4s, v0.4s, v18.4s"},
		{CMHS(1, 2, 3), 0x6ea33c41, "cmhs v1.4s, v2.4s, v3.4s"},
		{CMHS(2, 2, 20), 0x6eb43c42, "cmhs v2.4s, v2.4s, v20.4s"},
		{BIC(1, 2, 3), 0x4e631c41, "bic v1.16b, v2.16b, v3.16b"},
		{BIC(31, 8, 17), 0x4e711d1f, "bic v31.16b, v8.16b, v17.16b"},
		{FMINV(1, 2), 0x6eb0f841, "fminv s1, v2.4s"},
		{SDOTElem(1, 2, 3, 0), 0x4f83e041, "sdot v1.4s, v2.16b, v3.4b[0]"},
		{SDOTElem(1, 2, 31, 3), 0x4fbfe841, "sdot v1.4s, v2.16b, v31.4b[3]"},
		{SDOTElem(0, 26, 17, 2), 0x4f91eb40, "sdot v0.4s, v26.16b, v17.4b[2]"},
		{SXTL(1, 2), 0x0f08a441, "sshll v1.8h, v2.8b, #0"},
		{SXTL2(1, 2), 0x4f08a441, "sshll2 v1.8h, v2.16b, #0"},
		{SMLAL(1, 2, 3), 0x0e638041, "smlal v1.4s, v2.4h, v3.4h"},
		{SMLAL2(1, 2, 3), 0x4e638041, "smlal2 v1.4s, v2.8h, v3.8h"},
		{SQXTN(1, 2), 0x0e614841, "sqxtn v1.4h, v2.4s"},
		{SQXTN2(1, 2), 0x4e614841, "sqxtn2 v1.8h, v2.4s"},
		{SQXTUN(1, 2), 0x2e212841, "sqxtun v1.8b, v2.8h"},
		{SQXTUN2(1, 2), 0x6e212841, "sqxtun2 v1.16b, v2.8h"},
	}
	for _, c := range cases {
		if c.got.Bits != c.bits || c.got.Asm != c.asm {
			t.Errorf("got %#08x %q, want %#08x %q", c.got.Bits, c.got.Asm, c.bits, c.asm)
		}
	}
}

func TestRangeChecks(t *testing.T) {
	for _, f := range []func(){
		func() { FADD(32, 0, 0) },
		func() { FADD(0, -1, 0) },
		func() { FMUL(0, 0, 40) },
		func() { FMLAElem(0, 0, 0, 4) },
		func() { FMLAElem(0, 0, 32, 0) },
		func() { FRECPE(0, 99) },
		func() { SSHR(0, 0, 0) },
		func() { SSHR(0, 0, 33) },
		func() { MUL(0, 32, 0) },
		func() { CMHS(0, 0, -1) },
		func() { BIC(0, 32, 0) },
		func() { SDOTElem(0, 0, 0, 4) },
		func() { SDOTElem(0, 0, 32, 0) },
		func() { SMLAL2(0, 0, 32) },
		func() { SQXTUN(-1, 0) },
		func() { FMINV(0, 32) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("out-of-range operand accepted")
				}
			}()
			f()
		}()
	}
}

func TestFrame(t *testing.T) {
	fn := &Func{Name: "K", Sig: "func(kc int, a *float32, alpha, beta float32, s *float32, x float32) (r float32)"}
	var f File
	f.Text(fn)
	if got := f.Arg("beta"); got != "beta+20(FP)" {
		t.Errorf("beta at %s", got)
	}
	if got := f.Arg("x"); got != "x+32(FP)" {
		t.Errorf("x at %s", got)
	}
	if got := f.Arg("r"); got != "r+40(FP)" {
		t.Errorf("r at %s", got)
	}
	if !strings.Contains(f.asm.String(), "$0-44") {
		t.Errorf("frame: %s", f.asm.String())
	}
	f.Text(&Func{Name: "S", Sig: "func(dst, x []float32, n int, s float32) (r float64)"})
	if got := f.Arg("x_len"); got != "x_len+32(FP)" {
		t.Errorf("x_len at %s", got)
	}
	if got := f.Arg("r"); got != "r+64(FP)" {
		t.Errorf("r at %s", got)
	}
	if !strings.Contains(f.asm.String(), "$0-72") {
		t.Errorf("frame: %s", f.asm.String())
	}
}
