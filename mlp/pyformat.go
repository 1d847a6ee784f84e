package mlp

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/simdmlp/simdmlp/internal/pyfmt"
)

// Keras's callbacks write numbers the way Python does: CSVLogger's rows
// hold repr(float), ModelCheckpoint's file names come from
// str.format(epoch=..., **logs), and the verbose lines use f-strings such as
// f"{best:.5f}". Package pyfmt holds Python's repr and its digit layout;
// this file adds the format specifications and templates on top of it
// (checked against CPython 3.11 on 30,000 random values and specs while it
// was written). Everything appends to a caller's buffer, so that a
// callback formats once per epoch without allocating.

// pySpec is a parsed Python format specification, the part of a
// replacement field after the colon: [[fill]align][sign][0][width]
// [.precision][type]. Python's "z", "#" and grouping options are not
// supported.
type pySpec struct {
	fill  rune
	align byte // '<', '>', '^', '=', or 0 for the type's default
	sign  byte // '+', '-', ' ', or 0
	width int
	prec  int  // -1 when not given
	typ   byte // 0 when not given
	src   string
}

// parsePySpec parses spec as Python's format() does, with the errors
// Python gives for malformed ones; the type is checked against the value
// when it is formatted, as in Python.
func parsePySpec(spec string) (pySpec, error) {
	sp := pySpec{fill: ' ', prec: -1, src: spec}
	s := spec
	isAlign := func(c byte) bool { return c == '<' || c == '>' || c == '^' || c == '=' }
	fillSet := false
	if r, n := utf8.DecodeRuneInString(s); n > 0 && n < len(s) && isAlign(s[n]) {
		sp.fill, sp.align, fillSet = r, s[n], true
		s = s[n+1:]
	} else if len(s) > 0 && isAlign(s[0]) {
		sp.align = s[0]
		s = s[1:]
	}
	if len(s) > 0 && (s[0] == '+' || s[0] == '-' || s[0] == ' ') {
		sp.sign = s[0]
		s = s[1:]
	}
	if len(s) > 0 && (s[0] == 'z' || s[0] == '#') {
		return sp, fmt.Errorf("format spec %q: the %q option is not supported", spec, s[0])
	}
	// A 0 before the width asks for zero padding after the sign, unless
	// a fill was given (then it is just the width's first digit).
	if !fillSet && len(s) > 0 && s[0] == '0' {
		sp.fill = '0'
		if sp.align == 0 {
			sp.align = '='
		}
		s = s[1:]
	}
	w, s, err := pySpecNumber(spec, s)
	if err != nil {
		return sp, err
	}
	sp.width = w
	if len(s) > 0 && (s[0] == ',' || s[0] == '_') {
		return sp, fmt.Errorf("format spec %q: the grouping option %q is not supported", spec, s[0])
	}
	if len(s) > 0 && s[0] == '.' {
		if len(s) < 2 || s[1] < '0' || s[1] > '9' {
			return sp, fmt.Errorf("format spec %q: format specifier missing precision", spec)
		}
		sp.prec, s, err = pySpecNumber(spec, s[1:])
		if err != nil {
			return sp, err
		}
	}
	switch len(s) {
	case 0:
	case 1:
		sp.typ = s[0]
	default:
		return sp, fmt.Errorf("invalid format specifier %q", spec)
	}
	return sp, nil
}

// pySpecNumber reads the decimal number at the start of s, 0 if none.
func pySpecNumber(spec, s string) (int, string, error) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > 1e8 {
			return 0, s, fmt.Errorf("format spec %q: too many decimal digits", spec)
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s[i:], nil
}

// appendPyFloat appends v formatted by sp as Python's format(v, spec) for
// a float: the types f, F, e, E, g, G and %, and no type (repr without a
// precision, else "g" that keeps a ".0" and switches to exponent notation
// one digit earlier). scratch is reused for the digits; it is returned so
// that its growth is kept.
func appendPyFloat(dst, scratch []byte, v float64, sp pySpec) ([]byte, []byte, error) {
	body := scratch[len(scratch):]
	neg := math.Signbit(v) && !math.IsNaN(v)
	a := math.Abs(v)
	upper := sp.typ == 'F' || sp.typ == 'E' || sp.typ == 'G'
	if sp.typ == '%' {
		a *= 100 // before the test for infinity: it may overflow
	}
	switch {
	case sp.typ != 0 && !strings.ContainsRune("fFeEgG%", rune(sp.typ)):
		return dst, scratch, fmt.Errorf("unknown format code %q for object of type 'float'", sp.typ)
	case math.IsNaN(a) || math.IsInf(a, 0):
		body = pyfmt.AppendNonFinite(body, a, upper)
		if sp.typ == '%' {
			body = append(body, '%')
		}
	case sp.typ == 0 && sp.prec < 0:
		body = pyfmt.AppendRepr(body, a)
	case sp.typ == 'f' || sp.typ == 'F' || sp.typ == '%':
		prec := sp.prec
		if prec < 0 {
			prec = 6
		}
		body = strconv.AppendFloat(body, a, 'f', prec, 64)
		if sp.typ == '%' {
			body = append(body, '%')
		}
	case sp.typ == 'e' || sp.typ == 'E':
		prec := sp.prec
		if prec < 0 {
			prec = 6
		}
		body = strconv.AppendFloat(body, a, 'e', prec, 64)
	default: // g, G, or no type with a precision
		prec := sp.prec
		if prec < 0 {
			prec = 6
		}
		prec = max(prec, 1)
		dot0 := sp.typ == 0
		digits, decpt := pyfmt.Digits(body, a, prec)
		limit := prec
		if dot0 {
			limit = prec - 1
		}
		// The digits sit at the start of body; lay them out after them
		// and move the result down.
		n := len(digits)
		out := pyfmt.AppendLayout(digits, digits, decpt, decpt <= -4 || decpt > limit, dot0)
		body = append(out[:0], out[n:]...)
	}
	if upper {
		for i, c := range body {
			if c >= 'a' && c <= 'z' {
				body[i] = c - 'a' + 'A'
			}
		}
	}
	dst = appendPyPadded(dst, body, neg, sp)
	return dst, body[:0], nil
}

// appendPyInt appends v formatted by sp as Python's format(v, spec) for an
// int: the types d (or none), x, X, o and b, and the float types, for
// which v is converted to a float as Python does.
func appendPyInt(dst, scratch []byte, v int, sp pySpec) ([]byte, []byte, error) {
	base := 10
	switch sp.typ {
	case 0, 'd':
	case 'x', 'X':
		base = 16
	case 'o':
		base = 8
	case 'b':
		base = 2
	case 'f', 'F', 'e', 'E', 'g', 'G', '%':
		return appendPyFloat(dst, scratch, float64(v), sp)
	default:
		return dst, scratch, fmt.Errorf("unknown format code %q for object of type 'int'", sp.typ)
	}
	if sp.prec >= 0 {
		return dst, scratch, fmt.Errorf("format spec %q: precision not allowed in integer format specifier", sp.src)
	}
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	body := strconv.AppendUint(scratch[len(scratch):], u, base)
	if sp.typ == 'X' {
		for i, c := range body {
			if c >= 'a' && c <= 'f' {
				body[i] = c - 'a' + 'A'
			}
		}
	}
	return appendPyPadded(dst, body, v < 0, sp), body[:0], nil
}

// appendPyPadded appends a number's sign and body padded to sp's width
// with its fill, numbers being right-aligned by default and "=" putting
// the padding between the sign and the digits.
func appendPyPadded(dst, body []byte, neg bool, sp pySpec) []byte {
	var sign byte
	switch {
	case neg:
		sign = '-'
	case sp.sign == '+' || sp.sign == ' ':
		sign = sp.sign
	}
	n := len(body)
	if sign != 0 {
		n++
	}
	pad := max(sp.width-n, 0)
	align := sp.align
	if align == 0 {
		align = '>'
	}
	var left, right int
	switch align {
	case '<':
		right = pad
	case '^':
		left, right = pad/2, pad-pad/2
	case '>':
		left = pad
	}
	dst = appendFill(dst, sp.fill, left)
	if sign != 0 {
		dst = append(dst, sign)
	}
	if align == '=' {
		dst = appendFill(dst, sp.fill, pad)
	}
	dst = append(dst, body...)
	return appendFill(dst, sp.fill, right)
}

// appendPyString appends s formatted by sp as Python's format(s, spec):
// left-aligned by default, truncated to the precision, with no sign and
// no "=" alignment.
func appendPyString(dst []byte, s string, sp pySpec) ([]byte, error) {
	if sp.typ != 0 && sp.typ != 's' {
		return dst, fmt.Errorf("unknown format code %q for object of type 'str'", sp.typ)
	}
	if sp.sign != 0 {
		return dst, fmt.Errorf("format spec %q: sign not allowed in string format specifier", sp.src)
	}
	if sp.align == '=' {
		return dst, fmt.Errorf("format spec %q: '=' alignment not allowed in string format specifier", sp.src)
	}
	if sp.prec >= 0 && utf8.RuneCountInString(s) > sp.prec {
		i := 0
		for range sp.prec {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
		s = s[:i]
	}
	pad := max(sp.width-utf8.RuneCountInString(s), 0)
	var left, right int
	switch sp.align {
	case '>':
		left = pad
	case '^':
		left, right = pad/2, pad-pad/2
	default:
		right = pad
	}
	dst = appendFill(dst, sp.fill, left)
	dst = append(dst, s...)
	return appendFill(dst, sp.fill, right), nil
}

func appendFill(dst []byte, fill rune, n int) []byte {
	for range n {
		dst = utf8.AppendRune(dst, fill)
	}
	return dst
}

// pyTemplate is a parsed Python format string of named replacement
// fields, as ModelCheckpoint's Path: literal text with {{ and }} for
// braces, and fields {name}, {name:spec}, {name!r} or {name!s:spec}.
// Positional fields, attribute and index access, and nested fields in a
// spec are errors.
type pyTemplate struct {
	src   string
	parts []pyPart
}

// pyPart is a literal run or one replacement field of a pyTemplate.
type pyPart struct {
	lit  string // literal text, when name is ""
	name string
	conv byte // 'r', 's' or 0
	spec pySpec
}

// parsePyTemplate parses s as Python's str.format reads its format string.
func parsePyTemplate(s string) (*pyTemplate, error) {
	t := &pyTemplate{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, pyPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i += 2
		case c == '}':
			return nil, fmt.Errorf("single '}' encountered in format string %q", s)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("expected '}' before end of string in format string %q", s)
			}
			field := s[i+1 : i+end]
			if strings.IndexByte(field, '{') >= 0 {
				return nil, fmt.Errorf("format string %q: nested replacement fields in a format spec are not supported", s)
			}
			p, err := parsePyField(field)
			if err != nil {
				return nil, fmt.Errorf("format string %q: %w", s, err)
			}
			flush()
			t.parts = append(t.parts, p)
			i += end + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return t, nil
}

// parsePyField parses the inside of a replacement field.
func parsePyField(field string) (pyPart, error) {
	name, spec, _ := strings.Cut(field, ":")
	name, conv, hasConv := strings.Cut(name, "!")
	p := pyPart{name: name}
	if hasConv {
		if len(conv) != 1 || (conv[0] != 'r' && conv[0] != 's') {
			return p, fmt.Errorf("field {%s}: unknown conversion specifier %q (only !r and !s are supported)", field, conv)
		}
		p.conv = conv[0]
	}
	switch {
	case name == "" || (name[0] >= '0' && name[0] <= '9'):
		return p, fmt.Errorf("field {%s}: positional fields are not supported (the file name is formatted with names only)", field)
	case strings.ContainsAny(name, ".["):
		return p, fmt.Errorf("field {%s}: attribute and index access are not supported", field)
	}
	var err error
	p.spec, err = parsePySpec(spec)
	return p, err
}

// fields reports whether the template has replacement fields.
func (t *pyTemplate) fields() bool {
	for _, p := range t.parts {
		if p.name != "" {
			return true
		}
	}
	return false
}

// suffix returns the literal text after the last replacement field (all
// of it when there is none).
func (t *pyTemplate) suffix() string {
	if n := len(t.parts); n > 0 && t.parts[n-1].name == "" {
		return t.parts[n-1].lit
	}
	return ""
}

// appendFormat appends the template formatted with the integer argument
// intName = intVal and the float arguments floats, as Python's
// s.format(intName=intVal, **floats): that is how Keras's ModelCheckpoint
// names its files (epoch=epoch+1, **logs). scratch is reused and returned.
// A name that is neither is an error naming it, as Python's KeyError.
func (t *pyTemplate) appendFormat(dst, scratch []byte, intName string, intVal int, floats Logs) ([]byte, []byte, error) {
	var err error
	for _, p := range t.parts {
		if p.name == "" {
			dst = append(dst, p.lit...)
			continue
		}
		var f float64
		isInt := p.name == intName
		if !isInt {
			var ok bool
			if f, ok = floats[p.name]; !ok {
				return dst, scratch, fmt.Errorf("no value named %q for the field {%s} (there are %s)",
					p.name, p.name, pyNames(intName, floats))
			}
		}
		switch {
		case p.conv != 0:
			// !r and !s give the same text for ints and floats.
			start := len(scratch)
			if isInt {
				scratch = strconv.AppendInt(scratch, int64(intVal), 10)
			} else {
				scratch = pyfmt.AppendRepr(scratch, f)
			}
			// The string is converted only for the call; the
			// compiler keeps such a conversion on the stack when
			// it is short, and the text is copied into dst.
			dst, err = appendPyString(dst, string(scratch[start:]), p.spec)
			scratch = scratch[:start]
		case isInt:
			dst, scratch, err = appendPyInt(dst, scratch, intVal, p.spec)
		default:
			dst, scratch, err = appendPyFloat(dst, scratch, f, p.spec)
		}
		if err != nil {
			return dst, scratch, fmt.Errorf("field {%s}: %w", p.name, err)
		}
	}
	return dst, scratch, nil
}

// pyNames lists the names a template may use, for an error message.
func pyNames(intName string, floats Logs) string {
	names := make([]string, 0, len(floats)+1)
	for k := range floats {
		names = append(names, k)
	}
	slices.Sort(names)
	return intName + ", " + strings.Join(names, ", ")
}
