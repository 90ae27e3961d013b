// Side by side, on this page's main thread: our wasm module (tract) and onnxruntime-web (wasm backend, one
// thread) run the same model.onnx on the same token ids (from tests/fixtures/parity.json, written by the
// training side). Called by ../bench.mjs as `window.runtimeBench(reps)`; returns one row per input shape.
// A benchmark page only: in the product the model runs in a worker, never on the page's main thread.
import init, { NoteCoder } from '../pkg/notecoder.js';
import * as ort from '../ort/ort.wasm.min.mjs';

const MODEL = '../models/coresponse-v1/';
const FILES = ['config.json', 'codebook.json', 'tokenizer.json', 'model.onnx'];

/** Pads `windows` (token id lists) into row-major `[batch, seq]` BigInt64Arrays. */
function pad(windows) {
  const seq = Math.max(...windows.map((w) => w.length));
  const ids = new BigInt64Array(windows.length * seq);
  const mask = new BigInt64Array(windows.length * seq);
  windows.forEach((w, r) => w.forEach((id, c) => { ids[r * seq + c] = BigInt(id); mask[r * seq + c] = 1n; }));
  return { ids, mask, batch: windows.length, seq };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

window.runtimeBench = async (reps, modelFile = 'model.onnx') => {
  await init();
  const bytes = await Promise.all(FILES.map(async (f) => new Uint8Array(await (await fetch(MODEL + (f === 'model.onnx' ? modelFile : f))).arrayBuffer())));
  const ours = new NoteCoder(...bytes);
  ort.env.wasm.wasmPaths = new URL('../ort/', import.meta.url).href;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(bytes[3], { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const fixture = await (await fetch('../fixtures/parity.json')).json();
  const all = fixture.cases.flatMap((c) => c.windows);
  const longest = all.reduce((a, w) => (w.length > a.length ? w : a));
  const typical = all.find((w) => w.length >= 14 && w.length <= 20);
  const shapes = [
    { name: `1 segment (${typical.length} tokens)`, windows: [typical] },
    { name: `1 window (${longest.length} tokens)`, windows: [longest] },
    { name: `32 segments (a full note, padded)`, windows: all.slice(0, 32) },
  ];
  const rows = [];
  for (const shape of shapes) {
    const { ids, mask, batch, seq } = pad(shape.windows);
    const feeds = () => ({
      input_ids: new ort.Tensor('int64', ids, [batch, seq]),
      attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
    });
    // Same answer from both runtimes, before any timing.
    const a = ours.logits(ids, mask, batch, seq);
    const b = (await session.run(feeds())).logits.data;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    for (let i = 0; i < 20; i++) { ours.logits(ids, mask, batch, seq); await session.run(feeds()); } // warm-up
    // Timers are coarse (100 us) on a page that is not cross-origin isolated: time blocks of calls, interleaved
    // so that both runtimes see the same machine state, and report the median per-call time of the blocks.
    const block = 50;
    const tOurs = [];
    const tOrt = [];
    for (let r = 0; r < reps; r++) {
      let t0 = performance.now();
      for (let k = 0; k < block; k++) ours.logits(ids, mask, batch, seq);
      tOurs.push((performance.now() - t0) / block);
      t0 = performance.now();
      for (let k = 0; k < block; k++) await session.run(feeds());
      tOrt.push((performance.now() - t0) / block);
    }
    rows.push({ shape: `${shape.name}: [${batch}, ${seq}]`, oursMs: median(tOurs), ortMs: median(tOrt), maxDiff });
  }
  ours.free();
  await session.release();
  return { ortVersion: ort.env.versions?.web ?? 'unknown', rows };
};
window.runtimeBenchLoaded = true;
