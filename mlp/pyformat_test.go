package mlp

import (
	"math"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/internal/pyfmt"
)

// The tables below were produced by CPython 3.11 (repr(v), format(v,
// spec)); the float32 values are what Keras's logs hold, float32 results
// widened to Python floats.

var reprCases = []struct {
	v    float64
	want string
}{
	{0.1, "0.1"},
	{1e-05, "1e-05"},
	{0.0001, "0.0001"},
	{0.00012345, "0.00012345"},
	{123456789.0, "123456789.0"},
	{1e+16, "1e+16"},
	{1.5e+16, "1.5e+16"},
	{9999999999999998.0, "9999999999999998.0"},
	{2.0, "2.0"},
	{0.0, "0.0"},
	{math.Copysign(0, -1), "-0.0"},
	{-2.5, "-2.5"},
	{0.3456000089645386, "0.3456000089645386"},
	{0.10000000149011612, "0.10000000149011612"},
	{2.499999936844688e-05, "2.499999936844688e-05"},
	{math.NaN(), "nan"},
	{math.Inf(1), "inf"},
	{math.Inf(-1), "-inf"},
	{1e+22, "1e+22"},
	{1.2345678901234568e+17, "1.2345678901234568e+17"},
	{5e-324, "5e-324"},
	{1.7976931348623157e+308, "1.7976931348623157e+308"},
	{0.3333333333333333, "0.3333333333333333"},
	{100.0, "100.0"},
	{1000000000000000.0, "1000000000000000.0"},
	{0.001, "0.001"},
}
var floatSpecCases = []struct {
	spec string
	v    float64
	want string
}{
	{".2f", 0.123456, "0.12"},
	{".4f", 0.3456000089645386, "0.3456"},
	{".3e", 12345.678, "1.235e+04"},
	{">8.2f", 3.14159, "    3.14"},
	{"+.1f", 0.25, "+0.2"},
	{"+.1f", -0.25, "-0.2"},
	{".0", 2.5, "2e+00"},
	{".3", 123.0, "1.23e+02"},
	{".3", 12.0, "12.0"},
	{".2", 1.0, "1.0"},
	{".1", 0.05, "0.05"},
	{".3g", 123.0, "123"},
	{".0g", 2.5, "2"},
	{"g", 1e-05, "1e-05"},
	{"g", 123456789.0, "1.23457e+08"},
	{"g", 0.0, "0"},
	{".3", 0.0, "0.0"},
	{".2%", 0.12345, "12.35%"},
	{"%", 0.5, "50.000000%"},
	{"^9.2f", 3.14159, "  3.14   "},
	{"=+9.2f", 3.14159, "+    3.14"},
	{"08.2f", -3.14159, "-0003.14"},
	{"<08.2f", 3.1, "3.100000"},
	{"*^10.3e", 12345.678, "1.235e+04*"},
	{" .1f", 2.0, " 2.0"},
	{".2f", 0.125, "0.12"},
	{".2f", 2.675, "2.67"},
	{".3e", math.Inf(1), "inf"},
	{"+f", math.NaN(), "+nan"},
	{".2F", math.Inf(1), "INF"},
	{".3E", 12345.0, "1.234E+04"},
	{"G", 1e-10, "1E-10"},
	{"10", 0.1, "       0.1"},
	{".0f", 2.5, "2"},
	{".0e", 15.0, "2e+01"},
	{".2f", math.Copysign(0, -1), "-0.00"},
	{".1f", -0.04, "-0.0"},
	{"", 0.3456000089645386, "0.3456000089645386"},
	{".5f", math.Inf(1), "inf"},
	{".5f", math.Inf(-1), "-inf"},
	{"08.2f", math.NaN(), "00000nan"},
	{".2f", 1e+20, "100000000000000000000.00"},
	{".10g", 1000000.0, "1000000"},
	{".2e", 9.999, "1.00e+01"},
	{".1%", math.NaN(), "nan%"},
	{"x<7.1f", 2.0, "2.0xxxx"},
	{"é>6.1f", 2.0, "ééé2.0"},
	{".2g", 0.000123456, "0.00012"},
	{"%", 2.95752857536262e+306, "inf%"}, // ×100 overflows, as in Python
}
var intSpecCases = []struct {
	spec string
	v    int
	want string
}{
	{"02d", 7, "07"},
	{"02d", -42, "-42"},
	{"03d", 7, "007"},
	{"03d", -42, "-42"},
	{"d", 7, "7"},
	{"d", -42, "-42"},
	{"", 7, "7"},
	{"", -42, "-42"},
	{"+d", 7, "+7"},
	{"+d", -42, "-42"},
	{"5", 7, "    7"},
	{"5", -42, "  -42"},
	{"<5", 7, "7    "},
	{"<5", -42, "-42  "},
	{"^5", 7, "  7  "},
	{"^5", -42, " -42 "},
	{"=+5", 7, "+   7"},
	{"=+5", -42, "-  42"},
	{".2f", 7, "7.00"},
	{".2f", -42, "-42.00"},
	{"e", 7, "7.000000e+00"},
	{"e", -42, "-4.200000e+01"},
	{"%", 7, "700.000000%"},
	{"%", -42, "-4200.000000%"},
	{"x", 7, "7"},
	{"x", -42, "-2a"},
	{"X", 7, "7"},
	{"X", -42, "-2A"},
	{"o", 7, "7"},
	{"o", -42, "-52"},
	{"b", 7, "111"},
	{"b", -42, "-101010"},
	{"05d", 7, "00007"},
	{"05d", -42, "-0042"},
	{"+05d", 7, "+0007"},
	{"+05d", -42, "-0042"},
	{"0>4", 7, "0007"},
	{"0>4", -42, "0-42"},
}

func TestPyFormatRepr(t *testing.T) {
	for _, c := range reprCases {
		if got := string(pyfmt.AppendRepr(nil, c.v)); got != c.want {
			t.Errorf("repr(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestPyFormatFloatSpecs(t *testing.T) {
	for _, c := range floatSpecCases {
		sp, err := parsePySpec(c.spec)
		if err != nil {
			t.Errorf("spec %q: %v", c.spec, err)
			continue
		}
		got, _, err := appendPyFloat([]byte("<"), nil, c.v, sp)
		if err != nil || string(got) != "<"+c.want {
			t.Errorf("format(%v, %q) = %q, %v; want %q", c.v, c.spec, got, err, "<"+c.want)
		}
	}
}

func TestPyFormatIntSpecs(t *testing.T) {
	for _, c := range intSpecCases {
		sp, err := parsePySpec(c.spec)
		if err != nil {
			t.Errorf("spec %q: %v", c.spec, err)
			continue
		}
		got, _, err := appendPyInt(nil, nil, c.v, sp)
		if err != nil || string(got) != c.want {
			t.Errorf("format(%d, %q) = %q, %v; want %q", c.v, c.spec, got, err, c.want)
		}
	}
}

func TestPyFormatTemplate(t *testing.T) {
	logs := Logs{"loss": 0.5, "val_loss": 0.123456, "val_accuracy": float64(float32(0.8125))}
	for _, c := range []struct{ tmpl, want string }{
		{"{epoch:02d}-{val_loss:.2f}.safetensors", "03-0.12.safetensors"},
		{"weights.{epoch:03d}-{val_accuracy:.4f}.safetensors", "weights.003-0.8125.safetensors"},
		{"{{x}}{epoch}}}", "{x}3}"},
		{"{epoch!r:>5}|{val_loss!s:.3}|{loss!r}", "    3|0.1|0.5"},
		{"{val_loss}", "0.123456"},
		{"{val_loss:}{epoch:}", "0.1234563"},
		{"model.safetensors", "model.safetensors"},
		{"", ""},
		{"dir/{epoch:%}", "dir/300.000000%"},
	} {
		tp, err := parsePyTemplate(c.tmpl)
		if err != nil {
			t.Errorf("%q: %v", c.tmpl, err)
			continue
		}
		got, _, err := tp.appendFormat(nil, nil, "epoch", 3, logs)
		if err != nil || string(got) != c.want {
			t.Errorf("%q.format(epoch=3, **logs) = %q, %v; want %q", c.tmpl, got, err, c.want)
		}
	}
}

func TestPyFormatErrors(t *testing.T) {
	logs := Logs{"loss": 0.5, "val_loss": 0.25}
	for _, c := range []struct{ tmpl, want string }{
		// Parse errors, as Python's ValueError and IndexError.
		{"a}b", "single '}'"},
		{"a{b", "expected '}'"},
		{"{0}", "positional"},
		{"{}", "positional"},
		{"{loss.real}", "attribute"},
		{"{loss[0]}", "attribute and index"},
		{"{epoch:{w}}", "nested"},
		{"{epoch!x}", "conversion"},
		{"{loss:.f}", "missing precision"},
		{"{loss:,.2f}", "grouping"},
		{"{loss:#.2f}", "not supported"},
		{"{loss:2.2.2f}", "invalid format specifier"},
		// Format errors, as Python's KeyError and ValueError.
		{"{val_los}.safetensors", `no value named "val_los"`},
		{"{ epoch}", `no value named " epoch"`},
		{"{loss:d}", "unknown format code 'd' for object of type 'float'"},
		{"{epoch:.2d}", "precision not allowed"},
		{"{epoch:q}", "unknown format code 'q' for object of type 'int'"},
		{"{epoch!r:+}", "sign not allowed"},
	} {
		tp, err := parsePyTemplate(c.tmpl)
		if err == nil {
			_, _, err = tp.appendFormat(nil, nil, "epoch", 1, logs)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.tmpl, err, c.want)
		}
	}
	// The KeyError names what there is.
	tp, _ := parsePyTemplate("{val_los}")
	if _, _, err := tp.appendFormat(nil, nil, "epoch", 1, logs); err == nil || !strings.Contains(err.Error(), "epoch, loss, val_loss") {
		t.Errorf("unknown name: %v, want the names listed", err)
	}
}

// TestPyFormatAllocs: a template formats into reused buffers without
// allocating, so that ModelCheckpoint names its files for free.
func TestPyFormatAllocs(t *testing.T) {
	tp, err := parsePyTemplate("ckpt/{epoch:02d}-{val_loss:.2f}-{loss}-{val_accuracy:g}-{epoch!r}.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	logs := Logs{"loss": float64(float32(0.3456)), "val_loss": 0.25, "val_accuracy": 1e-7}
	var dst, scratch []byte
	if dst, scratch, err = tp.appendFormat(dst[:0], scratch, "epoch", 12, logs); err != nil {
		t.Fatal(err)
	}
	want := "ckpt/12-0.25-0.3456000089645386-1e-07-12.safetensors"
	if string(dst) != want {
		t.Fatalf("got %q, want %q", dst, want)
	}
	if a := testing.AllocsPerRun(50, func() {
		dst, scratch, _ = tp.appendFormat(dst[:0], scratch, "epoch", 12, logs)
	}); a != 0 {
		t.Errorf("appendFormat allocates %v times", a)
	}
	if a := testing.AllocsPerRun(50, func() { dst = pyfmt.AppendRepr(dst[:0], math.Pi) }); a != 0 {
		t.Errorf("pyfmt.AppendRepr allocates %v times", a)
	}
}
