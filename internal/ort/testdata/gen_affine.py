#!/usr/bin/python3
"""Writes affine_softmax.onnx, the fixed model internal/ort's own test runs
in ONNX Runtime: y = softmax(x W^T + b) on 4 inputs and 3 outputs, with the
weights below (ort_test.go computes the same in float64). It comes from
PyTorch's exporter, not from simdmlp, so that the test checks the runner
alone. Regenerate with: /usr/bin/python3 gen_affine.py (Debian's
python3-torch)."""

import torch

lin = torch.nn.Linear(4, 3)
with torch.no_grad():
    # w[i][j] = (4i + j - 5) / 10, b = [0.1, -0.2, 0.3]
    lin.weight.copy_(torch.tensor([[(4 * i + j - 5) / 10 for j in range(4)] for i in range(3)]))
    lin.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
model = torch.nn.Sequential(lin, torch.nn.Softmax(dim=1)).eval()
torch.onnx.export(model, torch.zeros(1, 4), "affine_softmax.onnx", input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13)
