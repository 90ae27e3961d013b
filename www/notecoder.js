// The promise API over the notecoder worker. The page only sends text and receives results; the model runs in
// the worker (worker.js), and nothing leaves the browser.

/**
 * A code of the codebook.
 * @typedef {object} Code
 * @property {string} id            `domain.code`, e.g. `assessed.risk`
 * @property {string} domain        domain id, e.g. `assessed`
 * @property {string} label         human-readable label
 * @property {string} definition
 * @property {string} use_when
 * @property {string} do_not_use_when
 * @property {string} colour        CSS colour, `#rrggbb`
 * @property {number} threshold     note-level score in [0, 1] from which the code is suggested
 */

/**
 * The codebook of a model folder.
 * @typedef {object} Codebook
 * @property {string} name
 * @property {string} version
 * @property {{id: string, label: string, description: string}[]} domains
 * @property {Code[]} codes        in the order of the suggestions
 */

/**
 * A sentence (coding unit) that carries a code. `text.slice(start, end)` is the sentence.
 * @typedef {object} Evidence
 * @property {number} start   offset in UTF-16 code units (JS string index) into the text given to `suggest`
 * @property {number} end     exclusive, same unit
 * @property {number} score   the sentence's score for the code, in [0, 1]
 */

/**
 * What the model says about one code for the whole text.
 * @typedef {object} CodeSuggestion
 * @property {string} id
 * @property {string} domain
 * @property {string} label
 * @property {number} score         highest sentence score, in [0, 1]
 * @property {boolean} suggested    some sentence reaches the threshold (`score >= threshold`, `evidence` not empty)
 * @property {Evidence[]} evidence  sentences whose own score reaches the threshold, in text order
 */

/**
 * The answer to `suggest(text)`: either results for every codebook code (codebook order), or
 * `{superseded: true}` when a newer `suggest` call replaced this one before it ran.
 * @typedef {{superseded: false, codes: CodeSuggestion[], coverage: Coverage} | {superseded: true}} SuggestResult
 */

/**
 * How much of the text the model read. Nothing is truncated: a sentence longer than the model's window
 * (`max_tokens` in config.json) is split into overlapping windows, every token is in one, and the sentence's
 * score is the highest of its windows.
 * @typedef {object} Coverage
 * @property {number} segments              sentences (coding units) in the text
 * @property {number} windows               model windows behind the scores, over all sentences
 * @property {number} windowedSegments      sentences that needed more than one window
 * @property {number} maxWindowsPerSegment  windows of the longest sentence (0 for no sentence)
 */

/**
 * @typedef {object} NoteCoderHandle
 * @property {Codebook} codebook
 * @property {(text: string) => Promise<SuggestResult>} suggest
 *   Scores `text`. Rejects with the worker's error, rebuilt with its `name` (`ModelLoadError`, `TypeError`,
 *   `ModelCrashError`, `Error`), or with an `AbortError` after `dispose()`. After a `ModelCrashError` the next
 *   call runs in a fresh worker with a fresh model.
 * @property {() => Promise<{wasmMemoryBytes: number, loadMs: {module: number, files: number, model: number, warmup: number}}>} stats
 *   Diagnostics: the size of the worker's WebAssembly memory in bytes (it grows in 64 KiB pages and never
 *   shrinks, so a steady value over many `suggest()` calls shows no leak), and the ms each loading step took.
 * @property {() => void} dispose  Stops the worker; pending and later calls reject with an `AbortError`.
 */

/** The model folder could not be fetched or loaded (HTTP error, wrong file, mismatched codebook). */
export class ModelLoadError extends Error {
  name = 'ModelLoadError';
}

/**
 * The model crashed (a WebAssembly trap, which would be a bug in notecoder). The call that hit it rejects with
 * this error; the note coder starts a fresh worker and model, and later calls go to it.
 */
export class ModelCrashError extends Error {
  name = 'ModelCrashError';
}

const ERROR_TYPES = { ModelLoadError, ModelCrashError, TypeError, RangeError, Error };

/** Rebuilds an error posted by the worker as an Error of the same name. */
function rebuildError({ name, message }) {
  const Type = ERROR_TYPES[name] ?? Error;
  const err = new Type(message);
  if (err.name !== name) err.name = name;
  return err;
}

function abortError(message) {
  return new DOMException(message, 'AbortError');
}

/**
 * Resolves a model folder reference to an absolute URL ending in `/`.
 * @param {string | URL} model
 */
function modelFolderUrl(model) {
  const base = typeof document !== 'undefined' ? document.baseURI : self.location.href;
  const url = new URL(String(model), base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/**
 * Starts a worker, loads the model folder in it and resolves once the model is ready.
 *
 * @param {object} options
 * @param {string | URL} options.model  URL of a model folder holding config.json, codebook.json, tokenizer.json
 *   and model.onnx; a relative string resolves against the page (`document.baseURI`).
 * @param {string | URL} [options.workerUrl]  URL of worker.js (default: beside this module).
 * @returns {Promise<NoteCoderHandle>}  rejects with a `ModelLoadError` when the model cannot be loaded.
 */
export async function createNoteCoder({ model, workerUrl } = {}) {
  if (model === undefined || model === null || model === '') throw new TypeError('createNoteCoder: `model` (a model folder URL) is required');
  const modelUrl = modelFolderUrl(model);
  const scriptUrl = workerUrl ?? new URL('./worker.js', import.meta.url);

  /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void}>} */
  const waiting = new Map();
  let nextId = 1;
  let disposed = false;
  /** @type {Worker} */
  let worker;
  /** Resolves with the codebook once the current worker has loaded the model. @type {Promise<Codebook>} */
  let ready;

  const failAll = (err) => {
    for (const { reject } of waiting.values()) reject(err);
    waiting.clear();
  };

  const post = (target, message) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      target.postMessage({ id, ...message });
    });

  /** Starts a worker and loads the model in it; a model that crashes (a WebAssembly trap) gets a new one. */
  const start = () => {
    const w = new Worker(scriptUrl, { type: 'module', name: 'notecoder' });
    w.addEventListener('message', (event) => {
      const { id, ok, result, error } = event.data;
      const entry = waiting.get(id);
      if (!entry) return;
      waiting.delete(id);
      if (ok) {
        entry.resolve(result);
        return;
      }
      entry.reject(rebuildError(error));
      if (error?.name === 'ModelCrashError' && w === worker && !disposed) {
        // The instance is poisoned: replace the worker. Calls already sent to it fail with this error; calls
        // made from now on wait for the new one.
        w.terminate();
        failAll(rebuildError(error));
        start();
        ready.catch(() => {});
      }
    });
    w.addEventListener('error', (event) => {
      event.preventDefault();
      failAll(new ModelLoadError(`the notecoder worker failed: ${event.message || 'its script could not be loaded'}`));
    });
    w.addEventListener('messageerror', () => {
      failAll(new Error('the notecoder worker sent a message that could not be read'));
    });
    worker = w;
    ready = post(w, { type: 'init', model: modelUrl });
  };

  const request = async (message) => {
    if (disposed) throw abortError('the note coder was disposed');
    await ready;
    if (disposed) throw abortError('the note coder was disposed');
    return post(worker, message);
  };

  const dispose = () => {
    if (disposed) return;
    disposed = true;
    worker.terminate();
    failAll(abortError('the note coder was disposed'));
  };

  start();
  let codebook;
  try {
    codebook = await ready;
  } catch (err) {
    dispose();
    throw err;
  }

  return {
    codebook,
    suggest(text) {
      if (typeof text !== 'string') return Promise.reject(new TypeError('suggest() expects a string'));
      return request({ type: 'suggest', text });
    },
    stats() {
      return request({ type: 'stats' });
    },
    /** Tests only, not part of the API: makes the worker's module trap (a deliberate panic). */
    __trapForTests() {
      return request({ type: '__trap-for-tests' });
    },
    dispose,
  };
}
