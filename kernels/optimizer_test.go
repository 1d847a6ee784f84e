package kernels

import (
	"strings"
	"testing"
)

// TestOptimizerTable checks every row of the optimizer table: a unique
// lower-case name, slots with unique names, and cases that move θ, so a
// row added without its cases (and so without the tests of every level)
// or with a case that never reaches the kernel fails here.
func TestOptimizerTable(t *testing.T) {
	if len(optimizers) == 0 {
		t.Fatal("the optimizer table is empty")
	}
	seen := map[string]bool{}
	for _, o := range optimizers {
		if o.Name == "" || o.Name != strings.ToLower(o.Name) || seen[o.Name] {
			t.Errorf("optimizer %q: want a unique lower-case name", o.Name)
		}
		seen[o.Name] = true
		slots := map[string]bool{}
		for _, s := range o.Slots {
			if s.Name == "" || slots[s.Name] {
				t.Errorf("optimizer %q: slot %q: want a unique, non-empty name", o.Name, s.Name)
			}
			slots[s.Name] = true
		}
		cases := optimizerCases[o.Name]
		if len(cases) == 0 {
			t.Errorf("optimizer %q has no cases in optimizer_cases_test.go, so no level is tested against its reference", o.Name)
		}
		for _, c := range cases {
			for which, run := range map[string]func([][]float32, optHyper){"api": c.api, "ref": c.ref} {
				const n = 5
				v := make([][]float32, len(o.Slots)+2)
				for k := range v {
					v[k] = make([]float32, n)
				}
				for i := range n {
					v[len(v)-1][i] = float32(i + 1)
				}
				run(v, optHyper{0.001, 0.9, 1e-7, 0.1, 0.9})
				for i, x := range v[0] {
					if x == 0 {
						t.Errorf("%s %s: θ[%d] unchanged by a step with gradient %v", c.name, which, i, i+1)
						break
					}
				}
			}
		}
	}
	for name := range optimizerCases {
		if _, ok := LookupOptimizerKernel(name); !ok {
			t.Errorf("optimizer_cases_test.go has cases for %q, which the table lacks", name)
		}
	}
	got, ok := LookupOptimizerKernel("adam")
	if !ok || got.Name != "adam" || len(got.Slots) != 3 {
		t.Errorf(`LookupOptimizerKernel("adam") = %+v, %v`, got, ok)
	}
	if _, ok := LookupOptimizerKernel("nadam"); ok {
		t.Error(`LookupOptimizerKernel("nadam") found a kernel`)
	}
	all := OptimizerKernels()
	all[0].Slots[0].Name = "changed"
	if optimizers[0].Slots[0].Name == "changed" {
		t.Error("OptimizerKernels returned the table's own slot slices")
	}
}
