#!/usr/bin/python3
"""PyTorch on CPU, one thread: the peer of bench/'s BenchmarkEpoch,
BenchmarkEvaluate, BenchmarkPredictOne and BenchmarkSgemm.

The model is the tutorial's final one, Flatten(28x28) -> Dense(100, relu) ->
Dense(10, softmax), trained with sparse categorical cross-entropy and Adam
with Keras's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-7) in batches of 32:

  epoch      one pass over 48000 samples, a fresh shuffle, 1500 steps, with
             the running loss and accuracy Keras keeps;
  epoch256   the same at batch 256 (188 steps), named as bench/'s
             BenchmarkEpochThreads/impl=.../batch=256/threads=1;
  sigmoid    the tutorial's first model, Dense(100, sigmoid) -> Dense(10,
             softmax) with RMSprop (Keras's defaults: lr 1e-3, rho 0.9,
             eps 1e-7), one epoch at batch 32 and 256, as bench/'s
             BenchmarkEpochSigmoidRMSprop/impl=.../batch=N;
  evaluate   loss and accuracy over 12000 samples in batches of 32;
  predict    softmax probabilities of one sample (latency);
  mm         torch.mm on bench/'s GEMM shapes, transposes as views, and the
             five products of one batch-32 step back to back ("step").

Data are random of Fashion-MNIST's shape unless -fashion is given (a step's
time does not depend on the pixel values).

Results go to standard output in the Go benchmark format, one line per
repetition, named as bench/ names its own, so benchstat sets them beside the
Go figures. The name is impl=torch-<core>: <core> is the OpenBLAS core that
torch.mm and nn.Linear reach through libblas.so.3 (OPENBLAS_CORETYPE picks it).

  /usr/bin/python3 peers/torch_mlp.py | tee torch.txt
  benchstat -col /impl go.txt torch.txt

Lines starting with '#' are a readable summary (median and spread) that
benchstat ignores. Run it as /usr/bin/python3: Debian's python3-torch and
python3-numpy live there, not in a pyenv or venv interpreter.
"""

import argparse
import os
import sys
import time

# Pin every thread pool to one thread before the libraries load: torch's
# intra-op pool (OpenMP) and OpenBLAS's own, which torch.mm reaches through
# libblas.so.3. torch.set_num_threads(1) below also limits OpenBLAS; the
# variables make sure nothing starts wider first. OPENBLAS_CORETYPE is left
# alone.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from common import BATCH, CLASSES, EVAL, FASHION, PIXELS, TRAIN, idx, openblas, report, timed  # noqa: E402

# bench/'s GEMM shapes (m, n, k, transA, transB): the five products of a
# step, the first layer's input gradient, the large products at batch
# 256, then squares.
STEP = [
    (32, 100, 784, False, False),
    (32, 10, 100, False, False),
    (100, 10, 32, True, False),
    (32, 100, 10, False, True),
    (784, 100, 32, True, False),
]
SHAPES = STEP + [
    (32, 784, 100, False, True),
    (256, 100, 784, False, False),
    (784, 100, 256, True, False),
    (256, 784, 100, False, True),
] + [(s, s, s, False, False) for s in (64, 128, 256, 512, 1024, 2048)]


def cpu_capability():
    """The vector ISA torch's own kernels (not BLAS) dispatched to."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def load(fashion):
    """Training and evaluation sets: x as float32 (n, 28, 28) in [0, 1), y as int64."""
    if fashion:
        x = idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255
        y = idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    else:
        r = np.random.default_rng(7)
        x = r.random((TRAIN + EVAL, 28, 28), dtype=np.float32)
        y = r.integers(0, CLASSES, TRAIN + EVAL).astype(np.int64)
    x, y = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
    return x[:TRAIN], y[:TRAIN], x[TRAIN:TRAIN + EVAL], y[TRAIN:TRAIN + EVAL]


def model(act=torch.nn.ReLU):
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(PIXELS, 100),
        act(),
        torch.nn.Linear(100, CLASSES),
    )


def epoch(net, opt, x, y, batch=BATCH):
    """One Keras-style epoch: shuffle, steps of batch (the last one
    partial), running loss and accuracy as Keras's progress bar keeps
    them."""
    net.train()
    perm = torch.randperm(len(x))
    loss_sum = torch.zeros(())
    correct = torch.zeros((), dtype=torch.int64)
    for i in range(0, len(x), batch):
        j = perm[i:i + batch]
        xb, yb = x[j], y[j]
        opt.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        opt.step()
        with torch.no_grad():
            loss_sum += loss.detach() * len(j)
            correct += (logits.argmax(1) == yb).sum()
    return loss_sum.item() / len(x), correct.item() / len(x)


@torch.no_grad()
def evaluate(net, x, y):
    net.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), BATCH):
        xb, yb = x[i:i + BATCH], y[i:i + BATCH]
        logits = net(xb)
        loss_sum += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    return loss_sum / len(x), correct / len(x)


@torch.no_grad()
def predict_one(net, x1):
    return torch.softmax(net(x1), 1)


def timed_epochs(name, net, opt, x, y, batch, reps):
    """Times reps epochs at the given batch size and reports them."""
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        loss, acc = epoch(net, opt, x, y, batch)
        runs.append((1, time.perf_counter() - t0))
    report(name, runs, per=((len(x) + batch - 1) // batch, "step"))
    print("# last epoch: loss %.4f accuracy %.4f" % (loss, acc))


def shape_name(m, n, k, ta, tb):
    return "m=%d,n=%d,k=%d%s%s" % (m, n, k, ",tA" if ta else "", ",tB" if tb else "")


def gemm_operands(m, n, k, ta, tb, g):
    a = torch.rand((k, m) if ta else (m, k), generator=g) * 2 - 1
    b = torch.rand((n, k) if tb else (k, n), generator=g) * 2 - 1
    return (a.t() if ta else a), (b.t() if tb else b), torch.empty(m, n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-reps", type=int, default=5, help="repetitions of each measurement")
    ap.add_argument("-fashion", action="store_true", help="real Fashion-MNIST from " + FASHION)
    ap.add_argument("-only", default="epoch,epoch256,sigmoid,evaluate,predict,mm", help="comma-separated subset")
    ap.add_argument("-maxsquare", type=int, default=2048, help="largest square GEMM (other shapes always run)")
    args = ap.parse_args()
    only = set(args.only.split(","))

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    core, threads, config = openblas()
    impl = "impl=torch-" + core.lower()
    print("# torch-version: %s" % torch.__version__)
    print("# torch-threads: %d" % torch.get_num_threads())
    print("# torch-cpu-capability: %s" % cpu_capability())
    print("# openblas-core: %s" % core)
    print("# openblas-threads: %d" % threads)
    print("# openblas-config: %s" % config)
    print("# OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s data=%s" % (
        os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "fashion-mnist" if args.fashion else "random"), flush=True)

    if only & {"epoch", "epoch256", "sigmoid", "evaluate", "predict"}:
        xt, yt, xe, ye = load(args.fashion)
        net = model()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        # Warm-up: allocator, Adam's state, first-touch of the weights.
        epoch(net, opt, xt[:320], yt[:320])
        steps = (len(xt) + BATCH - 1) // BATCH
        if "epoch" in only:
            runs = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                loss, acc = epoch(net, opt, xt, yt)
                runs.append((1, time.perf_counter() - t0))
            report("BenchmarkEpoch/" + impl, runs, per=(steps, "step"))
            print("# last epoch: loss %.4f accuracy %.4f" % (loss, acc))
        if "epoch256" in only:
            timed_epochs("BenchmarkEpochThreads/%s/batch=256/threads=1" % impl, net, opt, xt, yt, 256, args.reps)
        if "sigmoid" in only:
            sig = model(torch.nn.Sigmoid)
            rms = torch.optim.RMSprop(sig.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
            epoch(sig, rms, xt[:320], yt[:320])
            for bs in (BATCH, 256):
                timed_epochs("BenchmarkEpochSigmoidRMSprop/%s/batch=%d" % (impl, bs), sig, rms, xt, yt, bs, args.reps)
        if "evaluate" in only:
            report("BenchmarkEvaluate/" + impl, timed(lambda: evaluate(net, xe, ye), args.reps, 0.5))
        if "predict" in only:
            x1 = xe[:1].clone()
            report("BenchmarkPredictOne/" + impl, timed(lambda: predict_one(net, x1), args.reps, 0.3))

    if "mm" in only:
        g = torch.Generator().manual_seed(1)
        for s in SHAPES:
            m, n, k, ta, tb = s
            if m == n == k and m > args.maxsquare:
                continue
            a, b, c = gemm_operands(*s, g)
            report("BenchmarkSgemm/%s/%s" % (impl, shape_name(*s)),
                   timed(lambda: torch.mm(a, b, out=c), args.reps, 0.3), metric=(2 * m * n * k, "GFLOP/s"))
        ops = [gemm_operands(*s, g) for s in STEP]
        flops = sum(2 * m * n * k for m, n, k, _, _ in STEP)

        def step():
            for a, b, c in ops:
                torch.mm(a, b, out=c)
        report("BenchmarkSgemm/%s/step" % impl, timed(step, args.reps, 0.3), metric=(flops, "GFLOP/s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
