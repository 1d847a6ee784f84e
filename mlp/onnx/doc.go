// Package onnx writes mlp models as ONNX files and reads the ONNX files of
// multi-layer perceptrons back as mlp models, so that a model trained here
// runs in ONNX Runtime (or any ONNX engine), and a model trained in
// PyTorch or Keras comes here to be evaluated, served or fine-tuned.
//
//	err := onnx.Save(m, "fashion.onnx")   // m: a built *mlp.Sequential
//	m, err := onnx.Load("from_torch.onnx") // uncompiled, weights set
//
// Only this package of simdmlp imports google.golang.org/protobuf (its
// encoding/protowire, for the wire format; the ONNX messages are small
// structs of its own), so programs that do not use ONNX do not link it.
//
// # Writing
//
// Save and Write produce a standard ONNX model, IR version 8 (IRVersion)
// with the default operator set at version 13 (Opset), which ONNX Runtime
// 1.10 and later load. The graph, named after the model, has one input
// "input" of type float32 shaped [N, the model's InputShape...] (the batch
// dimension is the symbol "N", so any batch size runs) and one output
// "output" shaped [N, units of the last layer]. Each layer becomes:
//
//   - Flatten: a Flatten node with axis=1, named after the layer;
//   - Dense: a Gemm node named after the layer, whose B and C inputs are
//     the initializers "<layer>/kernel" (in, units) and "<layer>/bias"
//     (units) as little-endian float32 raw_data, with transB=0 (our
//     kernels are stored as ONNX's B), then the activation's node ("Relu",
//     "Sigmoid", "Tanh", or "Softmax" with axis=-1; none for linear),
//     named "<layer>/<op>";
//   - Dropout: nothing, since the graph is for inference.
//
// producer_name is "simdmlp" and producer_version the module's version
// from the build information ("(devel)" or "devel" when there is none).
// The model must be built, hold a Dense layer and only finite weights.
// Save is atomic as mlp's Save is: the file is written beside path,
// synced and renamed over it, so a failure leaves an old file whole and
// nothing half-written behind.
//
// # Reading
//
// Load and Read accept the graph of a multi-layer perceptron as exporters
// write it: a chain of nodes from the one data input (float32, [batch,
// fixed sample dims...]; any batch dimension) to the one output, where
//
//   - Flatten (axis 1) or Reshape to [-1, features] or [0, -1] becomes a
//     Flatten layer;
//   - Gemm (transA=0, transB 0 or 1, any alpha and beta, C optional) or
//     MatMul of the data by a constant, either followed by an Add of a
//     constant bias (when the Gemm has no C), becomes a Dense layer: a B
//     stored (units, in), as PyTorch's Linear keeps it, is transposed, and
//     alpha and beta are multiplied into the kernel and the bias. A bias
//     may be shaped [units], [1, units] or be one value;
//   - Relu, Sigmoid, Tanh and Softmax right after a Dense layer are its
//     activation; Softmax must be over the last axis (-1, or 1 for the
//     2-D values of an MLP, the default before opset 13). Without an
//     activation a layer is linear: a graph that ends in logits comes in
//     with a linear last layer, which trains and evaluates after
//     Compile(opt, mlp.SparseCategoricalCrossentropyFromLogits, ...);
//   - Dropout nodes are skipped, not imported as mlp.Dropout layers: in
//     inference Dropout is the identity, and a graph does not say whether
//     the model was trained with it (nor does our own export keep it).
//     Its mask output must be unused and training_mode, if given, a
//     constant false;
//   - Identity nodes pass their input on;
//   - constants are initializers (also when listed among the graph's
//     inputs, as exporters for IR versions before 4 do) or Constant nodes
//     (value, value_float(s), value_int(s)), as raw_data or as
//     float_data/int64_data.
//
// This covers PyTorch's torch.onnx.export of nn.Sequential(Flatten,
// Linear, ReLU/Sigmoid/Tanh, ..., Linear[, Softmax]) at opsets 11 to 17
// (Gemm with transB=1, MatMul for a Linear without bias), tf2onnx's
// conversion of a Keras Sequential (Reshape, MatMul, Add, Relu, Softmax)
// and the files Save writes. Operator sets from 7 on are read.
//
// Anything else is an error naming the node, by index and name, and its
// operator: other operators, other domains, tensors that are not float32
// (FLOAT; an INT64 is accepted only as a Reshape's target shape), data in
// external files (data_location EXTERNAL) or segments, sparse
// initializers, a value read by two nodes (a branch or skip connection),
// a second data input, shapes that do not chain, non-finite weights,
// unknown attributes. Nothing in a file makes Read panic.
//
// Layer names: a file Save wrote (producer_name "simdmlp") gives each
// layer the name of its node, so that our models round-trip with their
// names, weights and predictions bit for bit; other files get Keras's
// default names, "flatten", "dense", "dense_1", …, given with mlp.Name,
// so that reading a file does not advance mlp's automatic name counters.
// The model is named after the graph ("sequential" if it has no name).
// Read returns the model uncompiled.
//
// # Limits
//
// A file may have at most MaxFileSize bytes (1 GiB); Read stops reading
// there. Every size a file declares, a tensor's dims, an input's shape or
// a field's length, is checked against the bytes actually present, and
// element counts against 2³¹−1, before anything is allocated for it. The
// decoder also bounds what it keeps of nodes, attributes, names and
// integers, which take more memory decoded than in the file (2¹⁸ units, a
// node or attribute costing 8: over 30 000 nodes, where an MLP has a few
// per layer), so that no file costs more than a few tens of megabytes
// beyond its own size and its weights. Reading takes about the file's
// size for the bytes read, once more for the weights decoded, and the
// model's own weights.
package onnx
