// Package onnx writes mlp models as ONNX files and reads the ONNX files of
// multi-layer perceptrons back as mlp models, so that a model trained here
// runs in ONNX Runtime (or any ONNX engine) and a model trained in PyTorch
// or Keras comes here to be evaluated, served or fine-tuned.
//
// # Writing
//
// Save and Write produce a standard ONNX model, IR version 8 (IRVersion)
// with the default operator set at version 13 (Opset), which ONNX Runtime
// 1.10 and later load. The graph, named after the model, has one input
// "input" of type float32 shaped [N, the model's InputShape...] (the batch
// dimension is the symbol "N") and one output "output" shaped [N, units of
// the last layer]. Each layer becomes:
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
// (from the build information; "(devel)" or "devel" when unknown).
package onnx
