package expconst

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"testing"
)

// TestSameAsReference parses kernels/ref_exp.go (gen is a module of its
// own and cannot import kernels) and checks that every constant there has
// a twin here with the same float32 value, and that none is missing.
func TestSameAsReference(t *testing.T) {
	ours := map[string]float64{
		"expLog2e": Log2e, "expLn2Hi": Ln2Hi, "expLn2Lo": Ln2Lo,
		"expRoundMagic": RoundMagic, "expMinArg": MinArg, "expMaxArg": MaxArg,
		"expC2": C2, "expC3": C3, "expC4": C4, "expC5": C5, "expC6": C6,
		"minNormal32": MinNormal,
		"tanhSmall":   TanhSmall, "tanhT3": TanhT3, "tanhT5": TanhT5,
		"tanhT7": TanhT7, "tanhT9": TanhT9, "tanhT11": TanhT11,
	}
	path := filepath.Join("..", "..", "..", "kernels", "ref_exp.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				v, ok := literal(vs.Values[i])
				if !ok {
					t.Fatalf("%s: %s is not a numeric literal", path, name.Name)
				}
				want, _ := constant.Float64Val(constant.ToFloat(v))
				got, ok := ours[name.Name]
				if !ok {
					t.Errorf("kernels/ref_exp.go has %s, which expconst lacks", name.Name)
					continue
				}
				seen[name.Name] = true
				if math.Float32bits(float32(got)) != math.Float32bits(float32(want)) {
					t.Errorf("%s: expconst has %v, kernels/ref_exp.go %v", name.Name, float32(got), float32(want))
				}
			}
		}
	}
	for name := range ours {
		if !seen[name] {
			t.Errorf("expconst has %s, which kernels/ref_exp.go lacks", name)
		}
	}
}

// literal evaluates a numeric literal, possibly negated.
func literal(e ast.Expr) (constant.Value, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		v := constant.MakeFromLiteral(e.Value, e.Kind, 0)
		return v, v.Kind() == constant.Int || v.Kind() == constant.Float
	case *ast.UnaryExpr:
		if v, ok := literal(e.X); ok && e.Op == token.SUB {
			return constant.UnaryOp(token.SUB, v, 0), true
		}
	}
	return nil, false
}
