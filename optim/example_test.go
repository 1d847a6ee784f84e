package optim_test

import (
	"fmt"

	"github.com/simdmlp/simdmlp/optim"
)

// Adam{} is keras.optimizers.Adam(): every zero field takes Keras's
// default. Its first step moves each parameter by about the learning rate,
// against the sign of its gradient.
func ExampleAdam() {
	opt := optim.Adam{Options: optim.Options{Clipnorm: 1}}
	fmt.Println(opt)

	// A weight matrix of 2×2 and a bias of 2, as a Dense layer has.
	params := [][]float32{{1, -1, 0.5, 2}, {0, 0}}
	u, err := opt.Build([]int{4, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	grads := [][]float32{{0.5, -0.25, 0, 0.1}, {-0.3, 0.2}}
	u.Step(params, grads)
	fmt.Printf("%.4f %.4f after %d step\n", params[0], params[1], u.Iterations())
	// Output:
	// Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False, clipnorm=1.0)
	// [0.9990 -0.9990 0.5000 1.9990] [0.0010 -0.0010] after 1 step
}

// ByName resolves the strings Keras's compile accepts, in any case, to
// optimizers with Keras's defaults.
func ExampleByName() {
	for _, name := range []string{optim.DefaultName, "Adam", "SGD", "nadam", "adamm"} {
		opt, err := optim.ByName(name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(opt)
	}
	// Output:
	// RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)
	// Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False)
	// SGD(learning_rate=0.01, momentum=0.0, nesterov=False)
	// optim: optimizer "nadam" (Keras's Nadam) is not implemented; implemented: "sgd", "adagrad", "rmsprop", "adam"
	// optim: unknown optimizer "adamm"; valid names (any case): "sgd", "adagrad", "rmsprop", "adam"
}

// WithLearningRate sets the rate of any optimizer ByName returns (Names
// lists those names), as the command's -lr flag does.
func ExampleWithLearningRate() {
	opt, err := optim.ByName("adam")
	if err == nil {
		opt, err = optim.WithLearningRate(opt, 0.01)
	}
	fmt.Println(opt, err)
	// Output:
	// Adam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False) <nil>
}

// Options are shared by every optimizer; zero means unset.
func ExampleOptions() {
	opt := optim.SGD{
		LearningRate: 0.1,
		Momentum:     0.9,
		Nesterov:     true,
		Options:      optim.Options{GlobalClipnorm: 1, WeightDecay: 0.004},
	}
	fmt.Println(opt)
	// Output:
	// SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.004, global_clipnorm=1.0)
}

// Zero writes an explicit zero where a 0 would mean Keras's default. With
// rho=0 RMSprop keeps no moving average, v being the last g², and with
// epsilon=0 as well each step moves every parameter by exactly the
// learning rate, against the sign of its gradient.
func ExampleZero() {
	fmt.Println(optim.RMSprop{LearningRate: 0.5})
	opt := optim.RMSprop{LearningRate: 0.5, Rho: optim.Zero, Epsilon: optim.Zero}
	fmt.Println(opt)

	u, err := opt.Build([]int{3})
	if err != nil {
		fmt.Println(err)
		return
	}
	params := [][]float32{{1, 1, 1}}
	u.Step(params, [][]float32{{4, -0.25, 2}})
	fmt.Println(params[0])
	u.Step(params, [][]float32{{-0.125, -8, 1}})
	fmt.Println(params[0])

	// A learning rate of zero leaves the parameters where they are.
	u, _ = optim.SGD{LearningRate: optim.Zero, Momentum: 0.9}.Build([]int{3})
	u.Step(params, [][]float32{{4, -0.25, 2}})
	fmt.Println(params[0])
	// Output:
	// RMSprop(learning_rate=0.5, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)
	// RMSprop(learning_rate=0.5, rho=0.0, momentum=0.0, epsilon=0.0, centered=False)
	// [0.5 1.5 0.5]
	// [1 2 0]
	// [1 2 0]
}
