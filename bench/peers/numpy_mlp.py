#!/usr/bin/python3
"""numpy on one thread (its matmul is OpenBLAS's cblas_sgemm through Debian's
libblas.so.3): the tutorial's model written out by hand, the peer that shows
what a plain BLAS-backed loop costs without a framework's overhead.

Same work as torch_mlp.py and bench/'s BenchmarkEpoch: Flatten(28x28) ->
Dense(100, relu) -> Dense(10, softmax), sparse categorical cross-entropy,
Adam with Keras's defaults and update formula, batches of 32, one shuffled
epoch over 48000 samples with the running loss and accuracy; the same at
batch 256 (BenchmarkEpochThreads/.../batch=256/threads=1); the tutorial's
first model, Dense(100, sigmoid) with RMSprop (Keras's defaults), at batch
32 and 256 (BenchmarkEpochSigmoidRMSprop/.../batch=N); evaluate on 12000;
predict one sample. Random data unless -fashion.

  /usr/bin/python3 peers/numpy_mlp.py | tee numpy.txt

Output is the Go benchmark format, named impl=numpy-<core> after the OpenBLAS
core its matmul ran on, plus '#' summary lines.
"""

import argparse
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

from common import BATCH, CLASSES, EVAL, FASHION, PIXELS, TRAIN, idx, openblas, report, timed  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-7
RHO = 0.9  # RMSprop's, Keras's default


class MLP:
    """784-100-10 with Keras's Glorot-uniform kernels and zero biases, a
    relu or sigmoid hidden layer, and Adam's or RMSprop's state."""

    def __init__(self, seed=1, act="relu", opt="adam"):
        self.act, self.opt = act, opt
        r = np.random.default_rng(seed)

        def glorot(fan_in, fan_out):
            lim = np.sqrt(6 / (fan_in + fan_out))
            return r.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32)

        self.params = [glorot(PIXELS, 100), np.zeros(100, np.float32), glorot(100, CLASSES), np.zeros(CLASSES, np.float32)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, x):
        w1, b1, w2, b2 = self.params
        z1 = x @ w1
        z1 += b1
        if self.act == "relu":
            np.maximum(z1, 0, out=z1)
        else:
            np.negative(z1, out=z1)
            np.exp(z1, out=z1)
            z1 += 1
            np.reciprocal(z1, out=z1)
        z2 = z1 @ w2
        z2 += b2
        return z1, z2

    def probs(self, logits):
        logits -= logits.max(1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(1, keepdims=True)
        return logits

    def step(self, x, y):
        """One Adam step; returns the summed loss and the number correct."""
        w1, b1, w2, b2 = self.params
        h, z2 = self.forward(x)
        correct = int((z2.argmax(1) == y).sum())
        p = self.probs(z2)
        rows = np.arange(len(y))
        loss = float(-np.log(np.maximum(p[rows, y], 1e-30)).sum())
        dz2 = p
        dz2[rows, y] -= 1
        dz2 /= len(y)
        gw2 = h.T @ dz2
        gb2 = dz2.sum(0)
        dh = dz2 @ w2.T
        if self.act == "relu":
            dh *= h > 0
        else:
            dh *= h * (1 - h)
        gw1 = x.T @ dh
        gb1 = dh.sum(0)
        grads = (gw1, gb1, gw2, gb2)
        if self.opt == "rmsprop":
            for w, g, v in zip(self.params, grads, self.v):
                v *= RHO
                v += (1 - RHO) * (g * g)
                w -= (LR * g) / (np.sqrt(v) + EPS)
            return loss, correct
        self.t += 1
        lr = LR * np.sqrt(1 - B2 ** self.t) / (1 - B1 ** self.t)
        for w, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= B1
            m += (1 - B1) * g
            v *= B2
            v += (1 - B2) * (g * g)
            w -= (lr * m) / (np.sqrt(v) + EPS)
        return loss, correct

    def epoch(self, x, y, rng, batch=BATCH):
        perm = rng.permutation(len(x))
        loss, correct = 0.0, 0
        for i in range(0, len(x), batch):
            j = perm[i:i + batch]
            l_, c_ = self.step(x[j], y[j])
            loss += l_
            correct += c_
        return loss / len(x), correct / len(x)

    def evaluate(self, x, y):
        loss, correct = 0.0, 0
        for i in range(0, len(x), BATCH):
            xb, yb = x[i:i + BATCH], y[i:i + BATCH]
            _, z2 = self.forward(xb)
            correct += int((z2.argmax(1) == yb).sum())
            p = self.probs(z2)
            loss += float(-np.log(np.maximum(p[np.arange(len(yb)), yb], 1e-30)).sum())
        return loss / len(x), correct / len(x)

    def predict(self, x):
        return self.probs(self.forward(x)[1])


def timed_epochs(name, net, x, y, rng, batch, reps):
    """Times reps epochs at the given batch size and reports them."""
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        loss, acc = net.epoch(x, y, rng, batch)
        runs.append((1, time.perf_counter() - t0))
    report(name, runs, per=((len(x) + batch - 1) // batch, "step"))
    print("# last epoch: loss %.4f accuracy %.4f" % (loss, acc))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-reps", type=int, default=5, help="repetitions of each measurement")
    ap.add_argument("-fashion", action="store_true", help="real Fashion-MNIST from " + FASHION)
    args = ap.parse_args()

    core, threads, config = openblas()
    impl = "impl=numpy-" + core.lower()
    print("# numpy-version: %s" % np.__version__)
    print("# openblas-core: %s" % core)
    print("# openblas-threads: %d" % threads)
    print("# openblas-config: %s" % config)
    print("# OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s data=%s" % (
        os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "fashion-mnist" if args.fashion else "random"), flush=True)

    if args.fashion:
        x = idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz")).reshape(-1, PIXELS).astype(np.float32) / 255
        y = idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    else:
        r = np.random.default_rng(7)
        x = r.random((TRAIN + EVAL, PIXELS), dtype=np.float32)
        y = r.integers(0, CLASSES, TRAIN + EVAL)
    xt, yt, xe, ye = x[:TRAIN], y[:TRAIN], x[TRAIN:TRAIN + EVAL], y[TRAIN:TRAIN + EVAL]

    net = MLP()
    rng = np.random.default_rng(1)
    net.epoch(xt[:320], yt[:320], rng)
    runs = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        loss, acc = net.epoch(xt, yt, rng)
        runs.append((1, time.perf_counter() - t0))
    report("BenchmarkEpoch/" + impl, runs, per=((len(xt) + BATCH - 1) // BATCH, "step"))
    print("# last epoch: loss %.4f accuracy %.4f" % (loss, acc))
    timed_epochs("BenchmarkEpochThreads/%s/batch=256/threads=1" % impl, net, xt, yt, rng, 256, args.reps)
    sig = MLP(act="sigmoid", opt="rmsprop")
    sig.epoch(xt[:320], yt[:320], rng)
    for bs in (BATCH, 256):
        timed_epochs("BenchmarkEpochSigmoidRMSprop/%s/batch=%d" % (impl, bs), sig, xt, yt, rng, bs, args.reps)
    report("BenchmarkEvaluate/" + impl, timed(lambda: net.evaluate(xe, ye), args.reps, 0.5))
    x1 = xe[:1].copy()
    report("BenchmarkPredictOne/" + impl, timed(lambda: net.predict(x1), args.reps, 0.3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
