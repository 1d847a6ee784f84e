// Package neon is a small emitter of Go arm64 assembly for the NEON
// kernels of package kernels. avo has no arm64 back end, and Go's arm64
// assembler knows only two vector floating-point instructions (VFMLA and
// VFMLS); every other one is written as a WORD whose bits come from an
// encoder in this file. Each encoder checks its operands' ranges, so a
// generator bug panics at generation time instead of assembling to some
// other instruction, and returns the mnemonic in LLVM's syntax, which the
// WORD carries as its comment and `make check-neon-words` compares with
// llvm-mc's disassembly.
package neon

import "fmt"

// V is a SIMD&FP register number, V0 to V31.
type V int

// Word is one encoded instruction and its mnemonic.
type Word struct {
	Bits uint32
	Asm  string
}

func (v V) check() uint32 {
	if v < 0 || v > 31 {
		panic(fmt.Sprintf("neon: vector register V%d out of range", int(v)))
	}
	return uint32(v)
}

// three encodes the "three registers of the same type" group for the
// 4S arrangement: base holds every fixed bit.
func three(base uint32, mn string, d, n, m V) Word {
	bits := base | m.check()<<16 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("%s v%d.4s, v%d.4s, v%d.4s", mn, d, n, m)}
}

// two encodes the "two-register miscellaneous" group for 4S.
func two(base uint32, mn string, d, n V) Word {
	bits := base | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("%s v%d.4s, v%d.4s", mn, d, n)}
}

// byElement encodes the single-precision "vector × element" group: the
// element index 0-3 is split into H (bit 11) and L (bit 21) and the
// register number into M (bit 20) and Rm (bits 16-19), so all 32
// registers are usable (only the half-precision forms stop at V15).
func byElement(base uint32, mn string, d, n, m V, idx int) Word {
	if idx < 0 || idx > 3 {
		panic(fmt.Sprintf("neon: %s element index %d out of range 0..3", mn, idx))
	}
	i := uint32(idx)
	bits := base | (i&1)<<21 | m.check()<<16 | (i>>1)<<11 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("%s v%d.4s, v%d.4s, v%d.s[%d]", mn, d, n, m, idx)}
}

// FADD is d = n + m, four float32 lanes.
func FADD(d, n, m V) Word { return three(0x4e20d400, "fadd", d, n, m) }

// FSUB is d = n - m.
func FSUB(d, n, m V) Word { return three(0x4ea0d400, "fsub", d, n, m) }

// FMUL is d = n · m.
func FMUL(d, n, m V) Word { return three(0x6e20dc00, "fmul", d, n, m) }

// FDIV is d = n / m, correctly rounded.
func FDIV(d, n, m V) Word { return three(0x6e20fc00, "fdiv", d, n, m) }

// FMAX is d = max(n, m), NaN if either is NaN.
func FMAX(d, n, m V) Word { return three(0x4e20f400, "fmax", d, n, m) }

// FMIN is d = min(n, m), NaN if either is NaN.
func FMIN(d, n, m V) Word { return three(0x4ea0f400, "fmin", d, n, m) }

// FMLA is d += n · m, fused.
func FMLA(d, n, m V) Word { return three(0x4e20cc00, "fmla", d, n, m) }

// FCMGT sets each lane of d to all ones where n > m, else zero.
func FCMGT(d, n, m V) Word { return three(0x6ea0e400, "fcmgt", d, n, m) }

// FCMGE sets each lane of d to all ones where n ≥ m.
func FCMGE(d, n, m V) Word { return three(0x6e20e400, "fcmge", d, n, m) }

// FCMEQ sets each lane of d to all ones where n == m.
func FCMEQ(d, n, m V) Word { return three(0x4e20e400, "fcmeq", d, n, m) }

// BIC is d = n AND NOT m, bitwise on all 128 bits. Go's assembler has
// VBIF, VBIT and VBSL but no VBIC.
func BIC(d, n, m V) Word {
	bits := uint32(0x4e601c00) | m.check()<<16 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("bic v%d.16b, v%d.16b, v%d.16b", d, n, m)}
}

// FNEG negates each lane.
func FNEG(d, n V) Word { return two(0x6ea0f800, "fneg", d, n) }

// FABS clears each lane's sign.
func FABS(d, n V) Word { return two(0x4ea0f800, "fabs", d, n) }

// FSQRT is the correctly rounded square root of each lane.
func FSQRT(d, n V) Word { return two(0x6ea1f800, "fsqrt", d, n) }

// FMLAElem is d += n · m[idx], fused: the by-element FMLA that lets the
// GEMM micro-kernel use one loaded A vector for four rows.
func FMLAElem(d, n, m V, idx int) Word { return byElement(0x4f801000, "fmla", d, n, m, idx) }

// FMAXV sets lane 0 of d to the largest of n's four lanes (a scalar: d's
// other lanes are zeroed), NaN if any lane is NaN.
func FMAXV(d, n V) Word {
	bits := uint32(0x6e30f800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("fmaxv s%d, v%d.4s", d, n)}
}

// SSHR shifts each int32 lane of n right by shift (1-32), copying the sign
// bit in: shift 31 turns a float's sign into an all-ones or zero mask.
func SSHR(d, n V, shift int) Word {
	if shift < 1 || shift > 32 {
		panic(fmt.Sprintf("neon: sshr shift %d out of range 1..32", shift))
	}
	bits := uint32(0x4f000400) | uint32(64-shift)<<16 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("sshr v%d.4s, v%d.4s, #%d", d, n, shift)}
}

// MUL is d = n · m on uint32 lanes, keeping the low 32 bits of each
// product (the same bits for signed lanes). Go's assembler has VMUL for
// no arrangement.
func MUL(d, n, m V) Word { return three(0x4ea09c00, "mul", d, n, m) }

// CMHS sets each lane of d to all ones where n ≥ m as unsigned integers
// ("higher or same"), else zero.
func CMHS(d, n, m V) Word { return three(0x6ea03c00, "cmhs", d, n, m) }

// three2D encodes the "three registers of the same type" group for the
// 2D (float64) arrangement.
func three2D(base uint32, mn string, d, n, m V) Word {
	bits := base | m.check()<<16 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("%s v%d.2d, v%d.2d, v%d.2d", mn, d, n, m)}
}

// FADD2D is d = n + m, two float64 lanes.
func FADD2D(d, n, m V) Word { return three2D(0x4e60d400, "fadd", d, n, m) }

// FMLA2D is d += n · m, fused, two float64 lanes.
func FMLA2D(d, n, m V) Word { return three2D(0x4e60cc00, "fmla", d, n, m) }

// FCVTL widens the two low float32 lanes of n to float64 (exactly).
func FCVTL(d, n V) Word {
	bits := uint32(0x0e617800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("fcvtl v%d.2d, v%d.2s", d, n)}
}

// FCVTL2 widens the two high float32 lanes of n to float64 (exactly).
func FCVTL2(d, n V) Word {
	bits := uint32(0x4e617800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("fcvtl2 v%d.2d, v%d.4s", d, n)}
}

// FMUL2D is d = n · m, two float64 lanes.
func FMUL2D(d, n, m V) Word { return three2D(0x6e60dc00, "fmul", d, n, m) }

// FCVTN narrows the two float64 lanes of n to float32 (rounded to
// nearest) in the low half of d, zeroing the high half.
func FCVTN(d, n V) Word {
	bits := uint32(0x0e616800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("fcvtn v%d.2s, v%d.2d", d, n)}
}

// FCVTN2 narrows the two float64 lanes of n to float32 (rounded to
// nearest) in the high half of d, keeping the low half.
func FCVTN2(d, n V) Word {
	bits := uint32(0x4e616800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("fcvtn2 v%d.4s, v%d.2d", d, n)}
}

// FADDPScalar2D adds the two float64 lanes of n into d (a scalar).
func FADDPScalar2D(d, n V) Word {
	bits := uint32(0x7e70d800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("faddp d%d, v%d.2d", d, n)}
}

// FMINV sets lane 0 of d to the smallest of n's four lanes (a scalar: d's
// other lanes are zeroed), NaN if any lane is NaN.
func FMINV(d, n V) Word {
	bits := uint32(0x6eb0f800) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("fminv s%d, v%d.4s", d, n)}
}

// SCVTF converts signed int32 lanes to float32 (rounded to nearest).
func SCVTF(d, n V) Word { return two(0x4e21d800, "scvtf", d, n) }

// FCVTNS converts float32 lanes to int32, rounding to nearest with ties
// to even and saturating (NaN becomes 0).
func FCVTNS(d, n V) Word { return two(0x4e21a800, "fcvtns", d, n) }

// SDOTElem is the dot-product extension's by-element SDOT: each int32
// lane c of d gets the sum of the four signed byte products of n's bytes
// 4c..4c+3 with the four signed bytes of m's 32-bit element idx. Arm
// makes it optional in ARMv8.2 (FEAT_DotProd, HWCAP asimddp), so only a
// kernel installed after checking that flag may contain it.
func SDOTElem(d, n, m V, idx int) Word {
	if idx < 0 || idx > 3 {
		panic(fmt.Sprintf("neon: sdot element index %d out of range 0..3", idx))
	}
	i := uint32(idx)
	bits := uint32(0x4f80e000) | (i&1)<<21 | m.check()<<16 | (i>>1)<<11 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, idx)}
}

// narrow encodes the two-register groups whose source lanes are twice
// as wide as the destination's: from and to name the arrangements.
func narrow(base uint32, mn, to, from string, d, n V) Word {
	bits := base | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("%s v%d.%s, v%d.%s", mn, d, to, n, from)}
}

// SXTL sign-extends the eight low int8 lanes of n to int16 (LLVM prints
// it as its underlying form, SSHLL by 0). Go's assembler has only the
// unsigned VUXTL.
func SXTL(d, n V) Word {
	bits := uint32(0x0f08a400) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("sshll v%d.8h, v%d.8b, #0", d, n)}
}

// SXTL2 sign-extends the eight high int8 lanes of n to int16.
func SXTL2(d, n V) Word {
	bits := uint32(0x4f08a400) | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("sshll2 v%d.8h, v%d.16b, #0", d, n)}
}

// SMLAL adds the exact int32 products of the four low int16 lanes of n
// and m to d's four int32 lanes (wrapping).
func SMLAL(d, n, m V) Word {
	bits := uint32(0x0e608000) | m.check()<<16 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("smlal v%d.4s, v%d.4h, v%d.4h", d, n, m)}
}

// SMLAL2 is SMLAL on the four high int16 lanes of n and m.
func SMLAL2(d, n, m V) Word {
	bits := uint32(0x4e608000) | m.check()<<16 | n.check()<<5 | d.check()
	return Word{bits, fmt.Sprintf("smlal2 v%d.4s, v%d.8h, v%d.8h", d, n, m)}
}

// SQXTN narrows n's four int32 lanes to int16, saturating, into the low
// half of d (zeroing the high half).
func SQXTN(d, n V) Word { return narrow(0x0e614800, "sqxtn", "4h", "4s", d, n) }

// SQXTN2 is SQXTN into the high half of d, keeping the low half.
func SQXTN2(d, n V) Word { return narrow(0x4e614800, "sqxtn2", "8h", "4s", d, n) }

// SQXTUN narrows n's eight int16 lanes to uint8, saturating (negative
// values become 0, values above 255 become 255), into the low half of d.
func SQXTUN(d, n V) Word { return narrow(0x2e212800, "sqxtun", "8b", "8h", d, n) }

// SQXTUN2 is SQXTUN into the high half of d, keeping the low half.
func SQXTUN2(d, n V) Word { return narrow(0x6e212800, "sqxtun2", "16b", "8h", d, n) }
