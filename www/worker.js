// The notecoder worker: owns the WebAssembly instance and the model bytes, so that the page never runs a model.
//
// Protocol (every message carries the `id` of its request; replies echo it):
//   page -> worker  {id, type: 'init', model: <absolute URL of a model folder, ending in '/'>}
//   worker -> page  {id, ok: true, result: <codebook object>}
//   page -> worker  {id, type: 'suggest', text: <string>}
//   worker -> page  {id, ok: true, result: {superseded: false, codes: [...], coverage}} or {id, ok: true, result: {superseded: true}}
//   page -> worker  {id, type: 'stats'}
//   worker -> page  {id, ok: true, result: {wasmMemoryBytes, loadMs}}   the WebAssembly memory's size in bytes, and
//                   how long loading took, in ms: {module (fetch + compile + instantiate), files (what is left of
//                   the model folder's download, which runs during the module's), model (tokenizer + ONNX parse
//                   and optimisation), warmup (first suggest)}
//   worker -> page  {id, ok: false, error: {name, message}}   for any failed request
//
// Suggest requests that queue up while the model is busy are coalesced: only the newest one runs and each older
// one is answered `{superseded: true}`. Note text is never logged and never put into an error message.

import init, { NoteCoder, __panicForTests } from './pkg/notecoder.js';

/** The files of a model folder, in the order of the `NoteCoder` constructor's arguments. */
const MODEL_FILES = ['config.json', 'codebook.json', 'tokenizer.json', 'model.onnx'];

/** @type {Promise<NoteCoder> | null} */
let loading = null;
/** @type {NoteCoder | null} */
let coder = null;
/** The newest suggest request not yet run. @type {{id: number, text: string} | null} */
let pending = null;
let drainScheduled = false;
/** The WebAssembly instance's memory, once started. @type {WebAssembly.Memory | null} */
let memory = null;
/** Set after a WebAssembly trap: the instance must not be used again. */
let crashed = false;
/** Milliseconds spent in each step of loading. */
const loadMs = { module: 0, files: 0, model: 0, warmup: 0 };

class ModelLoadError extends Error {
  name = 'ModelLoadError';
}

/**
 * A WebAssembly trap (a Rust panic: the build aborts on panic) leaves the instance unusable. It is reported as a
 * `ModelCrashError`, after which this worker answers nothing more and the page starts a new one.
 * @param {unknown} err @returns {{name: string, message: string}}
 */
function crashOr(err) {
  if (err instanceof WebAssembly.RuntimeError) {
    coder = null;
    crashed = true;
    return { name: 'ModelCrashError', message: `the model crashed (${err.message}); notecoder restarts it` };
  }
  return serializeError(err);
}

/** @param {unknown} err @returns {{name: string, message: string}} */
function serializeError(err) {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: String(err) };
}

/** @param {string} url @returns {Promise<Uint8Array>} */
async function fetchBytes(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ModelLoadError(`could not fetch model file ${url}: ${err instanceof Error ? err.message : err}`);
  }
  if (!response.ok) {
    throw new ModelLoadError(`could not fetch model file ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** @param {string} modelUrl @returns {Promise<NoteCoder>} */
async function load(modelUrl) {
  let t = performance.now();
  const lap = (step) => {
    const now = performance.now();
    loadMs[step] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  // The model folder downloads while the module compiles.
  const fetching = Promise.all(MODEL_FILES.map((f) => fetchBytes(new URL(f, modelUrl).href)));
  fetching.catch(() => {}); // reported below, after the module's own error if both fail
  try {
    memory = (await init()).memory;
    lap('module');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Content.Security.Policy|unsafe-eval|wasm-eval/i.test(message)) {
      throw new ModelLoadError(
        "the page's Content-Security-Policy blocks WebAssembly: its script-src must allow 'wasm-unsafe-eval' " +
          "(for example: script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self')",
      );
    }
    throw new ModelLoadError(`could not start the WebAssembly module: ${message}`);
  }
  const files = await fetching;
  lap('files');
  let instance;
  try {
    instance = new NoteCoder(files[0], files[1], files[2], files[3]);
  } catch (err) {
    throw new ModelLoadError(`could not load the model folder ${modelUrl}: ${err instanceof Error ? err.message : err}`);
  }
  // The first inference is slower than the rest; pay for it before the page is told the model is ready.
  lap('model');
  instance.suggest('Warm-up.');
  lap('warmup');
  return instance;
}

function drain() {
  drainScheduled = false;
  const request = pending;
  pending = null;
  if (!request) return;
  try {
    if (!coder) throw new Error('the model is not loaded');
    const result = coder.suggest(request.text);
    self.postMessage({ id: request.id, ok: true, result: { superseded: false, codes: result.codes, coverage: result.coverage } });
  } catch (err) {
    self.postMessage({ id: request.id, ok: false, error: crashOr(err) });
  }
}

/** @param {{id: number, text: string}} request */
function enqueueSuggest(request) {
  if (pending) self.postMessage({ id: pending.id, ok: true, result: { superseded: true } });
  pending = request;
  if (!drainScheduled) {
    drainScheduled = true;
    // A task, not a microtask: messages that arrived while the model was busy are delivered first, so a burst
    // of requests collapses into its newest one.
    setTimeout(drain, 0);
  }
}

self.addEventListener('message', async (event) => {
  const { id, type } = event.data ?? {};
  if (type === 'init') {
    try {
      if (!loading) loading = load(String(event.data.model));
      coder = await loading;
      self.postMessage({ id, ok: true, result: coder.codebook() });
    } catch (err) {
      self.postMessage({ id, ok: false, error: serializeError(err) });
    }
  } else if (type === 'stats') {
    self.postMessage({ id, ok: true, result: { wasmMemoryBytes: memory ? memory.buffer.byteLength : 0, loadMs } });
  } else if (crashed) {
    self.postMessage({ id, ok: false, error: { name: 'ModelCrashError', message: 'the model crashed; notecoder restarts it' } });
  } else if (type === '__trap-for-tests') {
    // Tests only: makes the module trap for real (a deliberate Rust panic), to check that a crash poisons only
    // this worker. Carries no data and returns nothing.
    try {
      __panicForTests();
      self.postMessage({ id, ok: true, result: null });
    } catch (err) {
      self.postMessage({ id, ok: false, error: crashOr(err) });
    }
  } else if (type === 'suggest') {
    if (typeof event.data.text !== 'string') {
      self.postMessage({ id, ok: false, error: { name: 'TypeError', message: 'suggest() expects a string' } });
      return;
    }
    if (!coder) {
      self.postMessage({ id, ok: false, error: { name: 'ModelLoadError', message: 'the model is not loaded' } });
      return;
    }
    enqueueSuggest({ id, text: event.data.text });
  } else {
    self.postMessage({ id, ok: false, error: { name: 'TypeError', message: `unknown request type ${String(type)}` } });
  }
});
