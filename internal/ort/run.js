'use strict';
// Runs ONNX models in ONNX Runtime (the onnxruntime-node package) for
// simdmlp's interoperability tests; package ort (run.go) writes this file
// next to its inputs and starts it as
//
//   node run.js ORT_DIR JOBS.json
//
// ORT_DIR holds node_modules/onnxruntime-node. JOBS.json is a list of
// {"model", "input", "shape", "output"}: an .onnx file, a raw little-endian
// float32 file of the input tensor, its dimensions, and where to write the
// first output as raw little-endian float32. One line of JSON per job goes
// to standard output: the session's input and output names and the output's
// dimensions; the last line names the runtime's version. All jobs run in
// this one process so that a test of many models pays node's and the
// runtime's start-up once.

const fs = require('fs');
const path = require('path');

const [ortDir, jobsFile] = process.argv.slice(2);
if (!ortDir || !jobsFile) {
  console.error('usage: node run.js ORT_DIR JOBS.json');
  process.exit(2);
}
// Resolved from ORT_DIR alone, so that a copy of the runtime elsewhere on
// the machine can never stand in for the one the test asked for.
const pkg = require.resolve('onnxruntime-node', { paths: [ortDir] });
const ort = require(pkg);
const version = require(path.join(path.dirname(pkg), '..', 'package.json')).version;

// readF32 and writeF32 go element by element through the explicit
// little-endian accessors: a Float32Array view would use the host's byte
// order and needs a 4-byte-aligned buffer, neither of which the file format
// promises.
function readF32(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4 !== 0) throw new Error(`${file}: ${b.length} bytes is not a whole number of float32s`);
  const v = new Float32Array(b.length / 4);
  for (let i = 0; i < v.length; i++) v[i] = b.readFloatLE(4 * i);
  return v;
}

function writeF32(file, v) {
  const b = Buffer.alloc(4 * v.length);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i], 4 * i);
  fs.writeFileSync(file, b);
}

async function main() {
  const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  for (const job of jobs) {
    // One thread, as every peer in bench/ runs, and so that two test
    // processes on a 2-core machine do not fight over cores.
    const session = await ort.InferenceSession.create(job.model, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    const x = readF32(job.input);
    const want = job.shape.reduce((a, d) => a * d, 1);
    if (x.length !== want) throw new Error(`${job.input}: ${x.length} values, shape ${job.shape} needs ${want}`);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, job.shape) };
    const results = await session.run(feeds);
    const y = results[session.outputNames[0]];
    if (y.type !== 'float32') throw new Error(`${job.model}: output is ${y.type}, want float32`);
    writeF32(job.output, y.data);
    console.log(JSON.stringify({
      inputs: session.inputNames,
      outputs: session.outputNames,
      dims: y.dims.map(Number),
    }));
    await session.release();
  }
  console.log(JSON.stringify({ version }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
