package kernels

import "strconv"

// The cases of every row of the optimizer table: each parameter setting
// that selects code of its own on some level (each assembly function),
// with the call of the exported step and of the reference, so that the
// level tests (optVariants) run every one on every level. A row without
// cases here fails TestOptimizerTable.

// optHyper holds five scalars of one test step, each case mapping them to
// its own parameters; the tests draw them from typical and special values.
type optHyper struct{ lr, beta, eps, omb, mu float32 }

// optCase is one setting of an optimizer's parameters. Both functions take
// v = θ, then one array per slot in table order, then g: api runs the
// exported step on the active level, ref the Go reference. unused names
// the slots (as the table does) that the setting leaves untouched.
type optCase struct {
	name     string
	api, ref func(v [][]float32, h optHyper)
	unused   []string
}

// optimizerCases maps each optimizer of the table to its cases.
var optimizerCases = map[string][]optCase{
	"sgd": sgdCases(),
	"adagrad": {{"Adagrad",
		func(v [][]float32, h optHyper) { AdagradStep(v[0], v[1], v[2], AdagradParams{h.lr, h.eps}) },
		func(v [][]float32, h optHyper) { refAdagradStep(v[0], v[1], v[2], AdagradParams{h.lr, h.eps}) }, nil}},
	"rmsprop": rmspropCases(),
	"adam":    adamCases(),
}

func sgdCases() []optCase {
	var cs []optCase
	for _, c := range []struct {
		name     string
		mom, nes bool
	}{{"SGD", false, false}, {"SGD/momentum", true, false}, {"SGD/nesterov", true, true}, {"SGD/nesterov-no-momentum", false, true}} {
		p := func(h optHyper) SGDParams {
			q := SGDParams{LR: h.lr, Nesterov: c.nes}
			if c.mom {
				q.Momentum = h.mu
			}
			return q
		}
		cs = append(cs, optCase{c.name,
			func(v [][]float32, h optHyper) { SGDStep(v[0], v[1], v[2], p(h)) },
			func(v [][]float32, h optHyper) { refSGDStep(v[0], v[1], v[2], p(h)) }, nil})
	}
	return cs
}

func rmspropCases() []optCase {
	params := func(h optHyper, mom, centered bool) RMSpropParams {
		p := RMSpropParams{LR: h.lr, Rho: h.beta, OneMinusRho: h.omb, Epsilon: h.eps, Centered: centered}
		if mom {
			p.Momentum = h.mu
		}
		return p
	}
	// The reference gets nil for the buffers the parameters leave unused,
	// as the exported RMSpropStep passes them.
	ref := func(v [][]float32, p RMSpropParams) {
		mom, mg := v[2], v[3]
		if !(p.Momentum > 0) {
			mom = nil
		}
		if !p.Centered {
			mg = nil
		}
		refRMSpropStep(v[0], v[1], mom, mg, v[4], p)
	}
	var cs []optCase
	for _, mom := range []bool{false, true} {
		for _, centered := range []bool{false, true} {
			var unused []string
			if !mom {
				unused = append(unused, "momentum")
			}
			if !centered {
				unused = append(unused, "average_gradient")
			}
			cs = append(cs, optCase{"RMSprop/momentum=" + strconv.FormatBool(mom) + "/centered=" + strconv.FormatBool(centered),
				// The unused buffers are passed anyway: they must stay
				// untouched.
				func(v [][]float32, h optHyper) {
					RMSpropStep(v[0], v[1], v[2], v[3], v[4], params(h, mom, centered))
				},
				func(v [][]float32, h optHyper) { ref(v, params(h, mom, centered)) }, unused})
		}
	}
	return cs
}

func adamCases() []optCase {
	params := func(h optHyper, ams bool) AdamParams {
		return AdamParams{Alpha: h.lr, OneMinusBeta1: h.omb, OneMinusBeta2: h.mu, Epsilon: h.eps, Amsgrad: ams}
	}
	var cs []optCase
	for _, ams := range []bool{false, true} {
		var unused []string
		if !ams {
			unused = []string{"vhat"}
		}
		cs = append(cs, optCase{"Adam/amsgrad=" + strconv.FormatBool(ams),
			func(v [][]float32, h optHyper) { AdamStep(v[0], v[1], v[2], v[3], v[4], params(h, ams)) },
			func(v [][]float32, h optHyper) {
				vh := v[3]
				if !ams {
					vh = nil
				}
				refAdamStep(v[0], v[1], v[2], vh, v[4], params(h, ams))
			}, unused})
	}
	return cs
}
