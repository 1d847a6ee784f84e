"""Interoperability check for simdmlp model files, with numpy only.

    python3 interop.py predict MODEL X OUT   # read MODEL, run it on X, write OUT
    python3 interop.py write MODEL X OUT     # write a Keras-layout MODEL, X and its OUT

X and OUT are raw little-endian float32 arrays (n samples × input size, n ×
outputs). The model file is read and written by the safetensors
specification alone (8-byte little-endian header length, JSON header,
data), without the safetensors package, so that the test shows the format
is what the specification says rather than what one library accepts.
"""

import json
import struct
import sys

import numpy as np


def read_model(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__")
    assert meta["format"] == "simdmlp" and meta["format_version"] == "1", meta
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"])
    return meta, tensors


def forward(meta, tensors, x):
    """The model's forward pass in float64, from the metadata alone."""
    shape = json.loads(meta["input_shape"])
    h = x.astype(np.float64).reshape((-1,) + tuple(shape))
    for layer in json.loads(meta["layers"]):
        if layer["class_name"] == "Flatten":
            h = h.reshape(h.shape[0], -1)
            continue
        w = tensors[layer["name"] + "/kernel"].astype(np.float64)
        b = tensors[layer["name"] + "/bias"].astype(np.float64)
        assert w.shape == (h.shape[1], layer["units"]), (w.shape, h.shape)
        z = h @ w + b
        act = layer["activation"]
        if act == "relu":
            h = np.maximum(z, 0)
        elif act == "sigmoid":
            h = 1 / (1 + np.exp(-z))
        elif act == "tanh":
            h = np.tanh(z)
        elif act == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        elif act == "linear":
            h = z
        else:
            raise ValueError("unknown activation " + act)
    return h


def write_model(path, meta, named):
    """Writes tensors as safetensors.numpy.save_file does: sorted by name,
    header padded with spaces to 8 bytes."""
    header = {"__metadata__": meta}
    blobs = []
    off = 0
    for name in sorted(named):
        a = np.ascontiguousarray(named[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-(8 + len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(b"".join(blobs))


def keras_like_model(rng):
    """What a Keras user has after training: layer configs and the list
    model.get_weights() returns (kernel (in, units), bias (units,) per
    Dense layer, in order)."""
    input_shape = [3, 4]
    layers = [
        {"class_name": "Flatten", "name": "flatten"},
        {"class_name": "Dense", "name": "dense", "units": 9, "activation": "relu"},
        {"class_name": "Dense", "name": "dense_1", "units": 6, "activation": "tanh"},
        {"class_name": "Dense", "name": "dense_2", "units": 5, "activation": "softmax"},
    ]
    weights = []
    fan_in = 12
    for layer in layers[1:]:
        weights.append(rng.uniform(-0.5, 0.5, size=(fan_in, layer["units"])).astype(np.float32))
        weights.append(rng.uniform(-0.1, 0.1, size=(layer["units"],)).astype(np.float32))
        fan_in = layer["units"]
    return input_shape, layers, weights


def main():
    mode, model, xpath, outpath = sys.argv[1:5]
    if mode == "predict":
        meta, tensors = read_model(model)
        shape = json.loads(meta["input_shape"])
        x = np.fromfile(xpath, dtype="<f4").reshape([-1] + shape)
        forward(meta, tensors, x).astype("<f4").tofile(outpath)
    elif mode == "write":
        rng = np.random.default_rng(20260101)
        input_shape, layers, weights = keras_like_model(rng)
        # The few lines a Keras user runs, with model.get_weights() and the
        # layer list standing in for a trained keras.Sequential.
        dense = [l for l in layers if l["class_name"] == "Dense"]
        named = {}
        for i, l in enumerate(dense):
            named[l["name"] + "/kernel"] = weights[2 * i]
            named[l["name"] + "/bias"] = weights[2 * i + 1]
        meta = {
            "format": "simdmlp",
            "format_version": "1",
            "model_name": "sequential",
            "input_shape": json.dumps(input_shape),
            "layers": json.dumps(layers),
        }
        write_model(model, meta, named)
        x = rng.uniform(0, 1, size=[17] + input_shape).astype(np.float32)
        x.astype("<f4").tofile(xpath)
        forward(meta, {k: v for k, v in named.items()}, x).astype("<f4").tofile(outpath)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
