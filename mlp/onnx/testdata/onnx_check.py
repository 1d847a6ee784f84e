#!/usr/bin/env python3
"""Checks ONNX files written by mlp/onnx with the onnx Python package, for
the Go test TestExportOnnxChecker (export_check_test.go).

Usage: onnx_check.py DIR

DIR/manifest.json lists models as {"file", "x", "y", "samples"}: for each,
the file is parsed by onnx (Google's protobuf, not our decoder), checked
by onnx.checker with full_check (which runs strict shape inference), its
header is printed as JSON for the Go test to compare, and the graph is
evaluated in float64 with numpy on the float32 inputs in "x"; the outputs
go to "y" as little-endian float32. The evaluation knows only the
operators our export writes and fails on any other, so that it checks
what the file means rather than trusting our reader.

Needs numpy and onnx (Debian's python3-numpy and python3-onnx).
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def evaluate(graph, x):
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    values[graph.input[0].name] = x.astype(np.float64)
    for node in graph.node:
        a = attrs(node)
        ins = [values[i] for i in node.input if i]
        op = node.op_type
        if op == "Flatten":
            axis = a.get("axis", 1)
            v = ins[0]
            y = v.reshape(int(np.prod(v.shape[:axis])), -1)
        elif op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2:
                y = y + a.get("beta", 1.0) * ins[2]
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-ins[0]))
        elif op == "Tanh":
            y = np.tanh(ins[0])
        elif op == "Softmax":
            axis = a.get("axis", -1)
            e = np.exp(ins[0] - ins[0].max(axis=axis, keepdims=True))
            y = e / e.sum(axis=axis, keepdims=True)
        else:
            raise ValueError("operator %s is not one our export writes" % op)
        values[node.output[0]] = y
    return values[graph.output[0].name]


def dims(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else d.dim_value)
    return out


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "manifest.json")) as f:
        manifest = json.load(f)
    report = []
    for m in manifest:
        path = os.path.join(root, m["file"])
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        g = model.graph
        report.append({
            "file": m["file"],
            "ir_version": model.ir_version,
            "opsets": {o.domain: o.version for o in model.opset_import},
            "producer_name": model.producer_name,
            "producer_version": model.producer_version,
            "graph_name": g.name,
            "inputs": [i.name for i in g.input],
            "input_dims": dims(g.input[0]),
            "outputs": [o.name for o in g.output],
            "output_dims": dims(g.output[0]),
            "ops": [n.op_type for n in g.node],
            "initializers": [t.name for t in g.initializer],
        })
        x = np.fromfile(os.path.join(root, m["x"]), dtype="<f4")
        x = x.reshape([m["samples"]] + [d for d in dims(g.input[0])[1:]])
        y = evaluate(g, x)
        y.astype("<f4").tofile(os.path.join(root, m["y"]))
    json.dump({"onnx": onnx.__version__, "models": report}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
