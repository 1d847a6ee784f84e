#!/usr/bin/env python3
"""Exports PyTorch MLPs to ONNX for the Go tests of mlp/onnx (torch_test.go).

Usage: torch_export.py OUTDIR
       torch_export.py --tiny FILE

Builds several MLPs with random weights from a fixed seed, in the shapes
people write (nn.Sequential of Flatten, Linear and activations, with and
without a final Softmax, image and flat inputs, plus a hand-written module
that PyTorch exports as Reshape, MatMul, Add and Constant nodes), exports
each with torch.onnx.export at opsets 11, 13, 15 and 17 with a dynamic
batch dimension, and writes for each model 64 inputs and PyTorch's outputs
as raw little-endian float32 files. OUTDIR/manifest.json lists them.

With --tiny it writes one small model (3x2 inputs, Linear(6, 4), Tanh,
Linear(4, 3), opset 13) to FILE: testdata/torch_tiny.onnx, a seed of the
fuzz target FuzzRead, was made so.

Needs only torch (1.13 or later); the onnx Python package is not used.
"""

import json
import os
import sys
import warnings

import torch
import torch.nn as nn

OPSETS = (11, 13, 15, 17)
SAMPLES = 64


class MatMulMLP(nn.Module):
    """x.view(-1, 784) @ W + b with the weights as traced constants, so that
    the export has Reshape, MatMul, Add and Constant nodes instead of Gemm
    and initializers."""

    def __init__(self, sizes, gen):
        super().__init__()
        self.ws, self.bs = [], []
        for n_in, n_out in zip(sizes, sizes[1:]):
            bound = 1.0 / n_in ** 0.5
            self.ws.append((torch.rand(n_in, n_out, generator=gen) * 2 - 1) * bound)
            self.bs.append((torch.rand(n_out, generator=gen) * 2 - 1) * bound)

    def forward(self, x):
        x = x.view(-1, self.ws[0].shape[0])
        for i, (w, b) in enumerate(zip(self.ws, self.bs)):
            # Plain tensors, not parameters: the tracer records them as
            # Constant nodes.
            x = torch.matmul(x, w.clone()) + b.clone()
            if i < len(self.ws) - 1:
                x = torch.relu(x)
        return torch.softmax(x, dim=-1)


def build(name):
    """Returns (module, sample shape, has final softmax, export options)."""
    if name == "tutorial":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(),
                             nn.Linear(100, 10), nn.Softmax(dim=1)), (28, 28), True, {}
    if name == "sigmoid2_dropout_logits":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.Sigmoid(), nn.Dropout(0.2),
                             nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, 10)), (28, 28), False, {}
    if name == "tanh3_flat":
        return nn.Sequential(nn.Linear(784, 50), nn.Tanh(), nn.Linear(50, 40), nn.Tanh(),
                             nn.Linear(40, 30), nn.Tanh(), nn.Linear(30, 10), nn.Softmax(dim=-1)), (784,), True, {}
    if name == "relu1_flat_logits":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(),
                             nn.Linear(100, 10)), (784,), False, {}
    if name == "nobias_inputs_logits":
        # A Linear without bias is a Gemm without C; old-style export
        # lists the initializers among the graph's inputs.
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 32, bias=False), nn.Tanh(),
                             nn.Linear(32, 10)), (28, 28), False, {"keep_initializers_as_inputs": True}
    if name == "matmul_constants":
        return MatMulMLP((784, 48, 10), torch.Generator().manual_seed(7)), (28, 28), True, {}
    raise ValueError(name)


MODELS = ("tutorial", "sigmoid2_dropout_logits", "tanh3_flat", "relu1_flat_logits",
          "nobias_inputs_logits", "matmul_constants")


def write_f32(path, t):
    with open(path, "wb") as f:
        f.write(t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes())


def tiny(path):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 3)).eval()
    torch.onnx.export(model, torch.rand(2, 3, 2), path, opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def main():
    if sys.argv[1] == "--tiny":
        warnings.simplefilter("ignore")
        tiny(sys.argv[2])
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    warnings.simplefilter("ignore")
    torch.manual_seed(20240517)
    manifest = []
    for name in MODELS:
        model, shape, softmax, opts = build(name)
        model.eval()
        x = torch.rand((SAMPLES,) + shape)
        with torch.no_grad():
            y = model(x)
        write_f32(os.path.join(out, name + ".x.bin"), x)
        write_f32(os.path.join(out, name + ".y.bin"), y)
        files = []
        for opset in OPSETS:
            fname = "%s.opset%d.onnx" % (name, opset)
            torch.onnx.export(model, x[:2], os.path.join(out, fname), opset_version=opset,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **opts)
            files.append(fname)
        manifest.append({"name": name, "input_shape": list(shape), "outputs": y.shape[1],
                         "softmax": softmax, "samples": SAMPLES, "files": files})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "models": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
