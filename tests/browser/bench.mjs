// The browser benchmark: prints Markdown tables, asserts nothing (budgets are read from its numbers).
//   node bench.mjs            the full run (BENCHMARKS.md)
//   node bench.mjs --quick    a short smoke run for CI: every measurement, few repetitions
// Needs a built www/ (bash scripts/build-www.sh). Serves www/ plus onnxruntime-web's files (node_modules) and
// the side-by-side page (bench/) from one local origin; nothing comes from the network.
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { WWW, launchBrowser, startServer, waitForReady, waitForSuggestions } from './harness.mjs';

const QUICK = process.argv.includes('--quick');
const N = QUICK
  ? { loads: 3, typed: 300, rescoreReps: 3, updates: 600, warmup: 100, runtimeReps: 5 }
  : { loads: 20, typed: 2000, rescoreReps: 15, updates: 10000, warmup: 1000, runtimeReps: 40 };
const RESCORE_SIZES = [500, 2000, 10000];
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// --- inputs: notes of the held-out test split ------------------------------------------------------------
const testNotes = readFileSync(here('../../corpus/test.jsonl'), 'utf8').split('\n').filter(Boolean)
  .map((l) => JSON.parse(l).text);
const longest = testNotes.reduce((a, t) => (t.length > a.length ? t : a));
/** `n` characters of test notes one after another (blank line between), a long note of realistic text. */
function textOf(n) {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${testNotes[i % testNotes.length]}\n\n`;
  return s.slice(0, n);
}
const typedNote = QUICK ? longest.slice(0, N.typed) : longest;

// --- statistics -----------------------------------------------------------------------------------------------
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
}
const median = (xs) => quantile(xs, 0.5);
const f = (x, d = 2) => x.toFixed(d);
const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;

// --- size -----------------------------------------------------------------------------------------------------
function sizes() {
  const files = [
    ['wasm module', 'pkg/notecoder_bg.wasm', true],
    ['JS glue (wasm-bindgen)', 'pkg/notecoder.js', true],
    ['model.onnx', 'models/coresponse-v1/model.onnx', true],
    ['tokenizer.json', 'models/coresponse-v1/tokenizer.json', true],
    ['codebook.json', 'models/coresponse-v1/codebook.json', true],
    ['config.json', 'models/coresponse-v1/config.json', false],
    ['worker.js + notecoder.js + note-coder.js + define.js', ['worker.js', 'notecoder.js', 'note-coder.js', 'define.js'], false],
  ];
  const rows = files.map(([name, rel, budgeted]) => {
    const parts = Array.isArray(rel) ? rel : [rel];
    const raw = parts.reduce((a, p) => a + statSync(join(WWW, p)).size, 0);
    const gz = parts.reduce((a, p) => a + gzipSync(readFileSync(join(WWW, p)), { level: 9 }).length, 0);
    return { name, raw, gz, budgeted };
  });
  const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
  const budget = rows.filter((r) => r.budgeted);
  console.log('### Size (gzip -9)\n');
  console.log('| file | raw | gzipped |\n|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${kb(r.raw)} | ${kb(r.gz)} |`);
  console.log(`| **budgeted total** (wasm + glue + model + tokenizer + codebook) | ${mb(sum(budget, 'raw'))} | **${mb(sum(budget, 'gz'))}** |`);
  console.log(`| everything served | ${mb(sum(rows, 'raw'))} | ${mb(sum(rows, 'gz'))} |\n`);
}

// --- a served root: www/ + onnxruntime-web + the side-by-side page -------------------------------------------
function servedRoot() {
  const root = mkdtempSync(join(tmpdir(), 'notecoder-bench-'));
  for (const entry of readdirSync(WWW)) symlinkSync(join(WWW, entry), join(root, entry));
  symlinkSync(here('node_modules/onnxruntime-web/dist'), join(root, 'ort'));
  symlinkSync(here('bench'), join(root, 'bench'));
  symlinkSync(here('../fixtures'), join(root, 'fixtures'));
  return root;
}

async function coldStarts(browser, url, warm) {
  const readyAt = async (page) => {
    await waitForReady(page);
    return page.evaluate(() => window.readyAt);
  };
  const init = () => {
    document.addEventListener('notecoder:ready', () => { window.readyAt = performance.now(); }, { once: true });
  };
  const times = [];
  if (warm) {
    const context = await browser.newContext();
    await context.addInitScript(init);
    const first = await context.newPage();
    await first.goto(url);
    await readyAt(first); // fills the HTTP cache (and V8's code cache for the wasm module)
    await first.close();
    for (let i = 0; i < N.loads; i++) {
      const page = await context.newPage();
      await page.goto(url);
      times.push(await readyAt(page));
      await page.close();
    }
    await context.close();
  } else {
    for (let i = 0; i < N.loads; i++) {
      const context = await browser.newContext(); // a new, empty cache every time
      await context.addInitScript(init);
      const page = await context.newPage();
      await page.goto(url);
      times.push(await readyAt(page));
      await context.close();
    }
  }
  return times;
}

/** Where a warm load's time goes, from the worker's own clock: createNoteCoder() in a fresh page (warm cache). */
async function loadBreakdown(browser, url) {
  const context = await browser.newContext();
  const prime = await context.newPage();
  await prime.goto(url);
  await waitForReady(prime);
  await prime.close();
  const runs = [];
  for (let i = 0; i < Math.max(3, Math.min(N.loads, 10)); i++) {
    const page = await context.newPage();
    await page.goto(`${url}bench/blank.html`);
    runs.push(await page.evaluate(async () => {
      const { createNoteCoder } = await import('../notecoder.js');
      const t0 = performance.now();
      const coder = await createNoteCoder({ model: '../models/coresponse-v1/' });
      const total = performance.now() - t0;
      const { loadMs } = await coder.stats();
      coder.dispose();
      return { ...loadMs, total };
    }));
    await page.close();
  }
  await context.close();
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
}

/** Typing, re-scoring and memory through the public API (createNoteCoder), in one page. */
async function apiRuns(page) {
  return page.evaluate(async ({ note, rescore, n }) => {
    const { createNoteCoder } = await import('./notecoder.js');
    const coder = await createNoteCoder({ model: 'models/coresponse-v1/' });
    const typing = [];
    for (let i = 1; i <= note.length; i++) {
      const t0 = performance.now();
      await coder.suggest(note.slice(0, i));
      typing.push(performance.now() - t0);
    }
    // Full re-score: alternate a text and its upper-case twin; the cache holds only the previous note, so
    // every call scores every segment (the tokenizer is uncased: the work is the same).
    const full = {};
    for (const text of rescore) {
      const times = [];
      for (let r = 0; r < n.rescoreReps; r++) {
        const t = r % 2 ? text : text.toUpperCase();
        const t0 = performance.now();
        await coder.suggest(t);
        times.push(performance.now() - t0);
      }
      full[text.length] = times;
    }
    // Memory: n.updates suggest() calls (typing, deleting, pasting), read after warm-up and at the end.
    const edits = (k) => {
      const cut = (k * 7919) % note.length;
      return k % 3 === 0 ? note.slice(0, cut) : k % 3 === 1 ? note.slice(0, cut) + note.slice(0, k % 200) : note.slice(cut);
    };
    let before = 0;
    for (let k = 0; k < n.updates; k++) {
      if (k === n.warmup) before = (await coder.stats()).wasmMemoryBytes;
      await coder.suggest(edits(k));
    }
    const after = (await coder.stats()).wasmMemoryBytes;
    coder.dispose();
    return { typing, full, before, after };
  }, { note: typedNote, rescore: RESCORE_SIZES.map(textOf), n: N });
}

/** Types the note into the demo's textarea key by key and counts main-thread long tasks (> 50 ms). */
async function longTasks(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(url);
  await waitForReady(page);
  await page.fill('#note', '');
  await page.evaluate(() => { window.typingFrom = performance.now(); });
  await page.click('#note');
  await page.keyboard.type(typedNote.replaceAll('\r', ''));
  await waitForSuggestions(page);
  const r = await page.evaluate(() => ({
    during: window.longTasks.filter((t) => t.start >= window.typingFrom),
    load: window.longTasks.filter((t) => t.start < window.typingFrom),
    ms: performance.now() - window.typingFrom,
  }));
  await context.close();
  return r;
}

const root = servedRoot();
const server = await startServer({ root });
let browser;
try {
  browser = await launchBrowser();
  const version = browser.version();
  console.log(`## Browser (headless Chromium ${version}${QUICK ? ', --quick' : ''})\n`);
  sizes();

  const cold = await coldStarts(browser, server.url, false);
  const warm = await coldStarts(browser, server.url, true);
  const parts = await loadBreakdown(browser, server.url);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await waitForReady(page);
  const api = await apiRuns(page);
  await context.close();
  const lt = await longTasks(browser, server.url);

  const rtContext = await browser.newContext();
  const rt = await rtContext.newPage();
  await rt.goto(`${server.url}bench/runtime.html`);
  await rt.waitForFunction(() => window.runtimeBenchLoaded === true);
  const runtime = await rt.evaluate((reps) => window.runtimeBench(reps), N.runtimeReps);
  await rtContext.close();

  console.log('### Cold start: navigation to model ready (first suggestion possible), ms\n');
  console.log('| cache | n | median | p95 | min | max |\n|---|---:|---:|---:|---:|---:|');
  for (const [name, xs] of [['empty', cold], ['warm HTTP cache', warm]]) {
    console.log(`| ${name} | ${xs.length} | ${f(median(xs), 0)} | ${f(quantile(xs, 0.95), 0)} | ${f(Math.min(...xs), 0)} | ${f(Math.max(...xs), 0)} |`);
  }
  console.log(`\nWhere a warm load goes: createNoteCoder() in a fresh page, warm cache (median, ms; worker clock): module fetch + compile + instantiate ${f(parts.module, 1)}, `
    + `model folder fetch (overlapping the module) ${f(parts.files, 1)}, tokenizer + ONNX load ${f(parts.model, 1)}, first suggest ${f(parts.warmup, 1)}; `
    + `total as the page sees it (worker start included) ${f(parts.total, 1)}.`);
  console.log('\n### Updates through the public API (createNoteCoder -> worker), ms\n');
  console.log('| what | n | p50 | p95 | max |\n|---|---:|---:|---:|---:|');
  const t = api.typing;
  console.log(`| per keystroke, typing a ${typedNote.length}-char test note | ${t.length} | ${f(median(t))} | ${f(quantile(t, 0.95))} | ${f(Math.max(...t))} |`);
  for (const [len, xs] of Object.entries(api.full)) {
    console.log(`| full re-score, ${len} chars, nothing cached | ${xs.length} | ${f(median(xs))} | ${f(quantile(xs, 0.95))} | ${f(Math.max(...xs))} |`);
  }
  console.log('\n### Main thread and memory\n');
  const longest = lt.during.reduce((a, x) => Math.max(a, x.duration), 0);
  console.log(`- long tasks (> 50 ms) on the main thread while typing ${typedNote.length} chars into the demo `
    + `(${f(lt.ms / 1000, 1)} s): **${lt.during.length}**${lt.during.length ? ` (longest ${f(longest, 0)} ms)` : ''}; `
    + `during page load, before typing: ${lt.load.length}`);
  console.log(`- wasm memory after ${N.warmup} updates: ${api.before} bytes; after ${N.updates}: ${api.after} bytes `
    + `(growth **${api.after - api.before}** bytes)\n`);
  console.log(`### Same model, same token ids: tract (ours) vs onnxruntime-web ${runtime.ortVersion} (wasm, 1 thread), main thread\n`);
  console.log('| input [batch, seq] | ours, us/call | onnxruntime-web, us/call | ours ÷ ort | max abs logit diff |\n|---|---:|---:|---:|---:|');
  for (const r of runtime.rows) {
    console.log(`| ${r.shape} | ${f(r.oursMs * 1000, 1)} | ${f(r.ortMs * 1000, 1)} | **${f(r.oursMs / r.ortMs)}** | ${r.maxDiff.toExponential(1)} |`);
  }
  console.log('');
} finally {
  await browser?.close();
  await server.close();
  rmSync(root, { recursive: true, force: true });
}
