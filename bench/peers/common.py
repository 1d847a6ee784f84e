"""Helpers shared by the peer scripts: sizes, OpenBLAS introspection,
the IDX reader and timing that prints the Go benchmark format. It does not
import torch, so the numpy peer runs without loading it."""

import ctypes
import gzip
import statistics
import time

import numpy as np

TRAIN, EVAL, PIXELS, CLASSES, BATCH = 48000, 12000, 28 * 28, 10, 32
FASHION = "/usr/share/datasets/fashion-mnist"


def openblas():
    """Which OpenBLAS core the process loaded, pinned to one thread."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_set_num_threads(1)
        return lib.openblas_get_corename().decode(), lib.openblas_get_num_threads(), lib.openblas_get_config().decode()
    except (OSError, AttributeError):
        return "unknown", 0, "unknown"


def idx(path):
    """Reads a gzip'd IDX file into a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def timed(fn, reps, min_time):
    """Times fn: per repetition, as many calls as fill min_time seconds
    (at least one). Returns [(calls, seconds)] per repetition."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-9)
    calls = max(1, int(min_time / once))
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((calls, time.perf_counter() - t0))
    return out


def report(name, runs, per=None, metric=None):
    """Prints one Go-benchmark line per repetition and a '#' summary."""
    per_op = []
    for calls, secs in runs:
        ns = secs / calls * 1e9
        per_op.append(ns)
        extra = ""
        if per:
            extra += "\t%.0f ns/%s" % (ns / per[0], per[1])
        if metric:
            extra += "\t%.2f %s" % (metric[0] / ns, metric[1])
        print("%s\t%d\t%.0f ns/op%s" % (name, calls, ns, extra))
    med = statistics.median(per_op)
    summary = "# %-48s median %s  (min %s, max %s, %d reps)" % (
        name, human(med), human(min(per_op)), human(max(per_op)), len(per_op))
    if metric:
        summary += "  %.1f %s" % (metric[0] / med, metric[1])
    print(summary, flush=True)


def human(ns):
    """Formats a duration given in nanoseconds with a readable unit."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return "%.3g %s" % (ns / scale, unit)
    return "%.3g ns" % ns
