// Package pyfmt writes numbers the way Python does, for the outputs that
// must read as Python's (Keras's logs, CSV rows and file names, an
// optimizer's description, the commands' printed lists). Go's strconv
// finds the same correctly rounded digits but lays them out differently:
// its shortest %g writes 1234567.0 as 1.234567e+06 where Python's repr
// writes 1234567.0, and it spells infinity "+Inf" where Python writes
// "inf". So this package takes strconv's digits and lays them out by
// Python's rules. Everything appends to a caller's buffer, so that a hot
// caller formats without allocating.
package pyfmt

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Repr returns Python's repr of v (see AppendRepr).
func Repr(v float64) string { return string(AppendRepr(nil, v)) }

// AppendRepr appends Python's repr of v: the shortest digits that read
// back as v, in positional notation when the decimal exponent lies in
// [-4, 16), with ".0" after an integral value (2.0), and in exponent
// notation otherwise (1e-05, 1e+16), as CPython's float_repr_style
// "short".
func AppendRepr(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return AppendNonFinite(dst, v, false)
	}
	if math.Signbit(v) {
		dst = append(dst, '-')
		v = -v
	}
	var scratch [32]byte
	digits, decpt := Digits(scratch[:0], v, -1)
	return AppendLayout(dst, digits, decpt, decpt <= -4 || decpt > 16, true)
}

// AppendNonFinite appends NaN and the infinities as Python spells them;
// upper selects the spelling of the F, E and G presentation types. The
// sign of a NaN is not shown, as Python's repr does not show it.
func AppendNonFinite(dst []byte, v float64, upper bool) []byte {
	s := "inf"
	switch {
	case math.IsNaN(v):
		s = "nan"
	case v < 0:
		dst = append(dst, '-')
	}
	if upper {
		s = strings.ToUpper(s)
	}
	return append(dst, s...)
}

// Digits returns the decimal digits of v ≥ 0 (finite) without leading
// or trailing zeros ("0" for zero) and the position of the decimal point
// relative to them (v = 0.DIGITS × 10^decpt), rounded to prec significant
// digits or, with prec = -1, the shortest that reads back as v. The digits
// live in scratch's array when it is large enough.
func Digits(scratch []byte, v float64, prec int) ([]byte, int) {
	if prec >= 0 {
		prec-- // 'e' counts the digits after the first
	}
	b := strconv.AppendFloat(scratch, v, 'e', prec, 64)
	// b is "d.ddde±XX" or "de±XX".
	e := slices.Index(b, 'e')
	exp, _ := strconv.Atoi(string(b[e+1:])) // a short string: converting it does not allocate
	digits := b[:0]
	for _, c := range b[:e] {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 1 && digits[0] == '0' {
		return digits, 1
	}
	return digits, exp + 1
}

// AppendLayout appends digits with the decimal point at decpt (see
// Digits), in exponent notation when useExp, else positionally; dot0
// adds ".0" to a positional integer, as repr and the format type "" do.
func AppendLayout(dst, digits []byte, decpt int, useExp, dot0 bool) []byte {
	if useExp {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		exp := decpt - 1
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	switch {
	case decpt <= 0:
		dst = append(dst, "0."...)
		for range -decpt {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	case decpt >= len(digits):
		dst = append(dst, digits...)
		for range decpt - len(digits) {
			dst = append(dst, '0')
		}
		if dot0 {
			dst = append(dst, ".0"...)
		}
	default:
		dst = append(dst, digits[:decpt]...)
		dst = append(dst, '.')
		dst = append(dst, digits[decpt:]...)
	}
	return dst
}
