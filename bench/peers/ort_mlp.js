'use strict';
// ONNX Runtime in Node.js (the onnxruntime-node package), one thread: the
// peer of bench/'s BenchmarkPredictorOne and BenchmarkPredictorBatch.
//
// The model is the tutorial's final one, Flatten(28x28) -> Dense(100, relu)
// -> Dense(10, softmax), as simdmlp's onnx.Save exported it: bench/cmd/ortpeer
// builds it with the weights bench/ uses, exports it, computes its Predictor's
// outputs on 12000 random inputs, and starts this script with the files:
//
//   node ort_mlp.js -ort-dir DIR -model m.onnx -x x.f32 -want want.f32 [-trivial t.onnx] [-reps 5] [-min-time 1]
//
// Before timing, the script runs the 12000 inputs once and fails unless every
// output is within 1e-5 of simdmlp's, so the figures are those of a session
// that computes the same function. Then, per repetition, it times as many
// calls as fill -min-time seconds, after a warm-up of the same length:
//
//   PredictorOne    one session.run of one sample ([1, 28, 28]): latency;
//   PredictorBatch  one session.run of all 12000 samples ([12000, 28, 28]).
//
// Each call awaits session.run, whose native work onnxruntime-node does off
// the JavaScript thread; its time is what a Node.js program pays per call,
// the binding's hand-off included. With -trivial (a model of one 1×1 Gemm)
// the script also times session.run of that model, a '#' line: the fixed
// cost of a call, which the one-sample figure includes. The input tensor is made once and reused,
// as bench/ reuses its input slice. Timing uses process.hrtime.bigint inside
// this one process, so node's start-up and the session's creation are not
// counted.
//
// Results go to standard output in the Go benchmark format, one line per
// repetition, named impl=onnxruntime, so that benchstat and peertable set
// them beside the Go figures; '#' lines are a readable summary.

const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const opts = { reps: 5, minTime: 1 };
  const names = { '-ort-dir': 'ortDir', '-model': 'model', '-x': 'x', '-want': 'want', '-trivial': 'trivial', '-reps': 'reps', '-min-time': 'minTime' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}; usage: node ort_mlp.js -ort-dir DIR -model m.onnx -x x.f32 -want want.f32 [-trivial t.onnx] [-reps N] [-min-time SECONDS]`);
    opts[key] = key === 'reps' || key === 'minTime' ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const k of ['ortDir', 'model', 'x', 'want']) {
    if (!opts[k]) throw new Error(`missing -${k === 'ortDir' ? 'ort-dir' : k}`);
  }
  if (!(opts.reps >= 1) || !(opts.minTime > 0)) throw new Error('-reps must be ≥ 1 and -min-time > 0');
  return opts;
}

// readF32 reads raw little-endian float32 values (see internal/ort/run.js).
function readF32(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4 !== 0) throw new Error(`${file}: ${b.length} bytes is not a whole number of float32s`);
  const v = new Float32Array(b.length / 4);
  for (let i = 0; i < v.length; i++) v[i] = b.readFloatLE(4 * i);
  return v;
}

function human(ns) {
  for (const [unit, scale] of [['s', 1e9], ['ms', 1e6], ['µs', 1e3]]) {
    if (ns >= scale) return `${(ns / scale).toPrecision(3)} ${unit}`;
  }
  return `${ns.toPrecision(3)} ns`;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// timed calls fn as many times as fill minTime seconds (measured on a
// warm-up of that length), reps times, and returns [calls, ns] per rep.
async function timed(fn, reps, minTime) {
  const budget = BigInt(Math.round(minTime * 1e9));
  let calls = 0;
  const w0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - w0 < budget) {
    await fn();
    calls++;
  }
  const out = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await fn();
    out.push([calls, Number(process.hrtime.bigint() - t0)]);
  }
  return out;
}

// summary is the '#' line of a measurement: median, minimum and maximum.
function summary(name, perOp) {
  return `# ${name.padEnd(48)} median ${human(median(perOp))}  (min ${human(Math.min(...perOp))}, max ${human(Math.max(...perOp))}, ${perOp.length} reps)`;
}

function report(name, runs) {
  const perOp = runs.map(([calls, ns]) => ns / calls);
  runs.forEach(([calls], i) => console.log(`${name}\t${calls}\t${perOp[i].toFixed(0)} ns/op`));
  console.log(summary(name, perOp));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pkg = require.resolve('onnxruntime-node', { paths: [opts.ortDir] });
  const ort = require(pkg);
  const version = require(path.join(path.dirname(pkg), '..', 'package.json')).version;
  const session = await ort.InferenceSession.create(opts.model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const pixels = 28 * 28;
  const x = readF32(opts.x);
  const want = readF32(opts.want);
  const n = x.length / pixels;
  if (!Number.isInteger(n) || want.length !== n * 10) throw new Error(`${opts.x} and ${opts.want} do not hold ${n} images and their 10 outputs`);
  const input = session.inputNames[0];
  const output = session.outputNames[0];

  console.log(`# onnxruntime-version: ${version}`);
  console.log(`# onnxruntime: onnxruntime-node in node ${process.version}, intraOpNumThreads 1, interOpNumThreads 1, sequential`);

  const batch = { [input]: new ort.Tensor('float32', x, [n, 28, 28]) };
  const one = { [input]: new ort.Tensor('float32', x.subarray(0, pixels), [1, 28, 28]) };
  const got = (await session.run(batch))[output].data;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (Number.isNaN(d)) {
      worst = NaN;
      break;
    }
    worst = Math.max(worst, d);
  }
  console.log(`# onnxruntime-check: ${n} samples, largest |onnxruntime - simdmlp Predictor| ${worst.toExponential(3)}`);
  if (!(worst <= 1e-5)) throw new Error(`ONNX Runtime's outputs differ from simdmlp's by ${worst} (> 1e-5): not timing a different function`);

  report('BenchmarkPredictorOne/impl=onnxruntime', await timed(() => session.run(one), opts.reps, opts.minTime));
  report(`BenchmarkPredictorBatch/impl=onnxruntime`, await timed(() => session.run(batch), opts.reps, opts.minTime));
  await session.release();

  if (opts.trivial) {
    const t = await ort.InferenceSession.create(opts.trivial, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const feeds = { [t.inputNames[0]]: new ort.Tensor('float32', new Float32Array([1]), [1, 1]) };
    const runs = await timed(() => t.run(feeds), opts.reps, opts.minTime);
    console.log(summary('onnxruntime-call: session.run of a 1x1 Gemm', runs.map(([calls, ns]) => ns / calls)));
    await t.release();
  }
}

main().catch((err) => {
  console.error(`ort_mlp.js: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
