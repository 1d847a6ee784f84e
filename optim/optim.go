// Package optim holds the optimizers of simdmlp with Keras 2.14's defaults
// and formulas: SGD (with momentum and Nesterov), Adagrad, RMSprop (with
// momentum and centered) and Adam (with amsgrad). Each optimizer is a plain
// configuration value whose zero fields mean Keras's defaults, so
// optim.Adam{} is keras.optimizers.Adam(). Build turns a configuration into
// an Updater holding the slots and the iteration count; every update runs
// through the fused step kernels of package kernels and allocates nothing.
package optim

// Optimizer is an optimizer configuration, such as Adam{} or
// SGD{LearningRate: 0.1}. It is what mlp's Compile accepts.
type Optimizer interface {
	// Name returns Keras's class name, such as "Adam" or "RMSprop".
	Name() string
	// Build validates the configuration and returns a fresh Updater
	// (iterations 0, slots at their initial values) for parameters of
	// the given lengths, in the order Step will receive them.
	Build(sizes []int) (Updater, error)
}

// Updater applies an optimizer to one fixed list of parameter tensors.
type Updater interface {
	// Step applies one update: params[i] moves along grads[i]. Clipping
	// may rewrite grads in place. len(params) and each length must match
	// the sizes given to Build; Step panics otherwise, as the kernels do.
	Step(params, grads [][]float32)
	// Iterations returns how many steps have been applied.
	Iterations() int64
}
