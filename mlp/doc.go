// Package mlp is a Keras-compatible trainer for small multi-layer
// perceptrons: Sequential models of Dense, Flatten and Dropout layers, with
// Keras 2.14's Summary text, Compile, Fit (with its progress bar, History
// and callbacks: EarlyStopping, ModelCheckpoint, CSVLogger or your own),
// Evaluate, Predict, PredictClasses and TrainOnBatch, and model and
// weight files (Save, Load, SaveWeights, LoadWeights).
//
// The tutorial's final model, written as in Keras:
//
//	m := mlp.NewSequential("")
//	m.Add(mlp.Flatten(mlp.InputShape(28, 28)))
//	m.Add(mlp.Dense(100, "relu"))
//	m.Add(mlp.Dense(10, "softmax"))
//	m.Compile(optim.Adam{}, "sparse_categorical_crossentropy", "accuracy")
//	hist, err := m.Fit(x, y, mlp.FitConfig{Epochs: 5})
//
// Inputs are row-major float32 slices, n rows of the model's input size;
// labels are int32 class indices.
//
// # What matches Keras
//
// Names (dense, dense_1, …, sequential, sequential_1, …) come from
// process-global counters advanced only by auto-named objects, as in Keras;
// ResetNames is keras.backend.clear_session. The summary is TF-Keras 2.14's
// text byte for byte. Compile defaults to RMSprop. Fit uses batches of 32
// with the partial last batch kept, a fresh shuffle each epoch, a loss shown
// as the batch-size-weighted running mean, and metrics measured on the
// predictions made before each step's update. The loss is computed from the
// softmax layer's logits by a fused kernel, as TF-Keras does, so no epsilon
// clipping happens. Progress lines have Keras's verbose=1 and verbose=2
// formats. Running means are kept in float32, as Keras's Mean metric does,
// so History and Evaluate give the float32 values Keras would report.
//
// Printing follows Keras's defaults everywhere: Fit, Evaluate and
// EvaluateWith with a zero config draw the progress bar on standard output
// (verbose="auto"); FitConfig.Verbose and EvalConfig.Verbose take Keras's
// values as string literals, "0", "1", "2" or "auto" (VerboseSilent,
// VerboseBar, VerboseEpoch, VerboseAuto), so that Verbose: 1 written from
// habit does not compile rather than mean something else. Predict,
// PredictClasses and TrainOnBatch print nothing: they are the calls an
// embedding program makes in a loop.
//
// Callbacks see the events Keras's do, in its order (train begin; each
// epoch's begin, steps, validation and end with the logs; train end) and
// stop training as model.stop_training does. Go's own way to stop a long
// call is FitContext's context: a server shutting down, or a command on
// Ctrl-C, ends training after the current step.
//
// What differs: weights come from our own seeded generator (SetRandomSeed),
// not TensorFlow's Philox stream, so only their distribution matches Keras
// (Glorot uniform kernels, zero biases); shuffles and Dropout masks are
// likewise ours (the masks come from a counter-based hash, see Dropout, so
// they are the same on every kernel level and thread count). The
// only loss is sparse categorical cross-entropy on a softmax output layer.
//
// # Model files
//
// Save writes a model as one safetensors file and Load reads it back,
// built. The tensors are named after the layers, "dense/kernel" and
// "dense/bias", in Keras's layout: each kernel is (in, units) row-major
// float32, as get_weights returns it. The "__metadata__" map holds the
// architecture as strings: "format" ("simdmlp"), "format_version" ("1"),
// "model_name", "input_shape" (a JSON list such as "[28, 28]") and "layers"
// (a JSON list of {"class_name": "Flatten", "Dense" or "Dropout", "name",
// "units", "activation", "rate", "seed"}, each with the keys its class
// has).
//
// As Keras's model.save, Save keeps a compiled model's compile state:
// "training_config" holds {"loss", "metrics", "optimizer_config":
// {"class_name", "config"}, "iterations"} and each optimizer slot is a
// tensor per weight, named like Keras's optimizer variables
// ("optimizer/dense/kernel/m"). Load then returns the model compiled, and
// Fit with the same Seed and InitialEpoch set to the epochs already run
// continues bit for bit as if training had never stopped. SaveWith with
// ExcludeOptimizer (Keras's include_optimizer=False) and SaveWeights leave
// it out; LoadWeights reads the weights of either file into a model of the
// same architecture, matching layers by order as Keras's load_weights.
// Names ending in .h5, .hdf5 or .keras are refused: the format is
// safetensors whatever the name, and a file must not pass for Keras's.
//
// A model trained in Keras comes over with a few lines of Python (numpy
// and the safetensors package; Dense, Flatten and Dropout layers), or
// through ONNX (package mlp/onnx):
//
//	import json
//	from safetensors.numpy import save_file
//
//	tensors, layers = {}, []
//	for layer in model.layers:
//	    spec = {"class_name": type(layer).__name__, "name": layer.name}
//	    if spec["class_name"] == "Dense":
//	        kernel, bias = layer.get_weights()
//	        tensors[layer.name + "/kernel"] = kernel
//	        tensors[layer.name + "/bias"] = bias
//	        spec["units"] = layer.units
//	        spec["activation"] = layer.get_config()["activation"]
//	    elif spec["class_name"] == "Dropout":
//	        spec["rate"] = layer.rate
//	    layers.append(spec)
//	save_file(tensors, "model.safetensors", metadata={
//	    "format": "simdmlp", "format_version": "1", "model_name": model.name,
//	    "input_shape": json.dumps(list(model.input_shape[1:])),
//	    "layers": json.dumps(layers)})
//
// and then, in Go, m, err := mlp.Load("model.safetensors"). Without the
// safetensors package the file is easy to write by hand: see
// testdata/interop.py, which the tests run with numpy alone.
//
// # Performance
//
// All arithmetic of a training step runs through package kernels (GEMM with
// transpose flags, fused bias and activation, activation gradients, column
// sums, the fused softmax cross-entropy) and the optimizer's fused updates.
// Buffers are sized once and reused: after warm-up TrainOnBatch and Predict
// allocate nothing, and Fit's allocations do not grow with the number of
// steps or epochs.
//
// # Limits
//
// Sizes are checked before they are allocated: a model's weights when it is
// built, its optimizer's slots when it is compiled, the batch buffers when
// it is fitted or evaluated, all against the machine's memory (on Linux and
// macOS; elsewhere only against overflow). Optimizer steps are bounded by
// optim.MaxIterations, in Fit and in a loaded file alike.
//
// # Serving
//
// A Sequential is not safe for concurrent use: a call that uses its weights
// or buffers (Fit, Evaluate, Predict, Save, …) while another is running in
// another goroutine returns ErrConcurrentUse instead of racing it. For
// inference from many goroutines, take a Predictor: an immutable copy of the weights whose
// PredictOne and Predict any number of goroutines may call at once, with no
// allocation per call once warmed up, and the same bits as the model's
// Predict on the same kernel level. examples/serve is an HTTP service
// built on it.
//
// QuantizedPredictor gives the same core in int8 (post-training dynamic
// quantization: int8 weights with one scale per unit, each layer's input
// quantized per sample when it runs, exact int32 sums, float32 bias,
// scales and activations), whose outputs are the same bits on every
// kernel level. Predictor.Save and LoadPredictor store and read either
// kind; an int8 file holds I8 kernels with their scales beside them.
package mlp
