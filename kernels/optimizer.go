package kernels

// OptimizerSlot describes one state array of a fused optimizer update.
type OptimizerSlot struct {
	// Name is Keras's name for the slot variable ("m", "velocity", …): the
	// name its tensors carry in a saved model.
	Name string
	// NonNegative marks a slot that holds a sum of squares, which a
	// restored state must not make negative.
	NonNegative bool
	// Flushed marks a slot that the step stores with magnitudes below
	// 2⁻⁹⁵ as +0 (subnormals, −0 and the smallest normal values; see
	// SGDParams): every slot that decays toward zero, and Adam's v̂ beside
	// its v.
	Flushed bool
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

// optimizers is the table of fused optimizer updates. Adding one means its
// parameters, exported step and reference (in a file of its own), its row
// here, and its cases in optimizer_cases_test.go, which the level tests
// run on every level; the levels without assembly for it run the
// reference (DEVELOPERS.md, "How to add an optimizer").
var optimizers = []OptimizerKernel{
	{Name: "sgd", Slots: []OptimizerSlot{{"m", false, true}}},
	// Adagrad's accumulator only grows: see refAdagradStep.
	{Name: "adagrad", Slots: []OptimizerSlot{{"accumulator", true, false}}},
	{Name: "rmsprop", Slots: []OptimizerSlot{{"velocity", true, true}, {"momentum", false, true}, {"average_gradient", false, true}}},
	{Name: "adam", Slots: []OptimizerSlot{{"m", false, true}, {"v", true, true}, {"vhat", true, true}}},
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
