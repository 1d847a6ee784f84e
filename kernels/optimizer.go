package kernels

import "strconv"

// OptimizerSlot describes one state array of a fused optimizer update.
type OptimizerSlot struct {
	// Name is Keras's name for the slot variable ("m", "velocity", …): the
	// name its tensors carry in a saved model.
	Name string
	// NonNegative marks a slot that holds a sum of squares, which a
	// restored state must not make negative.
	NonNegative bool
}

// OptimizerKernel describes one fused optimizer update: what package optim
// needs to name, save and restore its state without a list of its own.
type OptimizerKernel struct {
	// Name is Keras's lower-case name of the optimizer, as
	// compile(optimizer=...) takes it: "sgd", "adam".
	Name string
	// Slots lists every slot the update may use, in the order its step
	// function takes them and Keras creates them. A configuration may
	// leave some out (Adam's "vhat" without amsgrad).
	Slots []OptimizerSlot
}

// optimizerInfo is one row of the optimizer table.
type optimizerInfo struct {
	OptimizerKernel
	// cases lists the parameter settings that select code of their own
	// on some level (each assembly function), so that the tests run every
	// one on every level against the reference. A row without cases fails
	// TestOptimizerTable.
	cases []optCase
}

// optHyper holds five scalars of one test step, each case mapping them to
// its own parameters; the tests draw them from typical and special values.
type optHyper struct{ lr, beta, eps, omb, mu float32 }

// optCase is one setting of an optimizer's parameters. Both functions take
// v = θ, then one array per slot in table order, then g: api runs the
// exported step on the active level, ref the Go reference.
type optCase struct {
	name     string
	api, ref func(v [][]float32, h optHyper)
}

// optimizers is the table of fused optimizer updates. Adding one means its
// parameters and exported step in kernels.go, its reference in
// ref_optim.go and its row here; the levels without assembly for it run
// the reference (DEVELOPERS.md, "How to add an optimizer").
var optimizers = []optimizerInfo{
	{
		OptimizerKernel: OptimizerKernel{Name: "sgd", Slots: []OptimizerSlot{{"m", false}}},
		cases:           sgdCases(),
	},
	{
		OptimizerKernel: OptimizerKernel{Name: "adagrad", Slots: []OptimizerSlot{{"accumulator", true}}},
		cases: []optCase{{"Adagrad",
			func(v [][]float32, h optHyper) { AdagradStep(v[0], v[1], v[2], AdagradParams{h.lr, h.eps}) },
			func(v [][]float32, h optHyper) { refAdagradStep(v[0], v[1], v[2], AdagradParams{h.lr, h.eps}) }}},
	},
	{
		OptimizerKernel: OptimizerKernel{Name: "rmsprop",
			Slots: []OptimizerSlot{{"velocity", true}, {"momentum", false}, {"average_gradient", false}}},
		cases: rmspropCases(),
	},
	{
		OptimizerKernel: OptimizerKernel{Name: "adam", Slots: []OptimizerSlot{{"m", false}, {"v", true}, {"vhat", true}}},
		cases:           adamCases(),
	},
}

// OptimizerKernels returns every fused optimizer update, in table order.
// The slices are copies: changing them changes nothing here.
func OptimizerKernels() []OptimizerKernel {
	all := make([]OptimizerKernel, len(optimizers))
	for i, o := range optimizers {
		all[i] = OptimizerKernel{Name: o.Name, Slots: append([]OptimizerSlot(nil), o.Slots...)}
	}
	return all
}

// LookupOptimizerKernel returns the fused update called name ("adam"), and
// whether there is one.
func LookupOptimizerKernel(name string) (OptimizerKernel, bool) {
	for _, o := range OptimizerKernels() {
		if o.Name == name {
			return o, true
		}
	}
	return OptimizerKernel{}, false
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
			func(v [][]float32, h optHyper) { refSGDStep(v[0], v[1], v[2], p(h)) }})
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
			cs = append(cs, optCase{"RMSprop/momentum=" + strconv.FormatBool(mom) + "/centered=" + strconv.FormatBool(centered),
				// The unused buffers are passed anyway: they must stay
				// untouched.
				func(v [][]float32, h optHyper) {
					RMSpropStep(v[0], v[1], v[2], v[3], v[4], params(h, mom, centered))
				},
				func(v [][]float32, h optHyper) { ref(v, params(h, mom, centered)) }})
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
		cs = append(cs, optCase{"Adam/amsgrad=" + strconv.FormatBool(ams),
			func(v [][]float32, h optHyper) { AdamStep(v[0], v[1], v[2], v[3], v[4], params(h, ams)) },
			func(v [][]float32, h optHyper) {
				vh := v[3]
				if !ams {
					vh = nil
				}
				refAdamStep(v[0], v[1], v[2], vh, v[4], params(h, ams))
			}})
	}
	return cs
}
