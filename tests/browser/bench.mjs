// Prints (does not assert) how fast the demo gets ready and how long suggest() takes per keystroke.
//   node bench.mjs
// Cold start: navigation start -> <note-coder> model ready, fresh browser context (empty cache) each time.
// Per keystroke: suggest(prefix) through the public API for every prefix of a ~1,000-character note, one
// character longer each time, as a clinician types it; awaited one after another, so nothing is superseded.
import { launchBrowser, startServer, waitForReady } from './harness.mjs';

const LOADS = 5;
const NOTE_CHARS = 1000;

const median = (xs) => quantile(xs, 0.5);
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
}
const ms = (x) => x.toFixed(x < 10 ? 2 : 1).padStart(8);

const server = await startServer();
let browser;
try {
  browser = await launchBrowser();

  const cold = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      document.addEventListener('notecoder:ready', () => { window.readyAt = performance.now(); }, { once: true });
    });
    await page.goto(server.url);
    await waitForReady(page);
    cold.push(await page.evaluate(() => window.readyAt));
    await context.close();
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await waitForReady(page);
  const { times, chars, first } = await page.evaluate(async (target) => {
    const { EXAMPLES } = await import('./examples.js');
    const { createNoteCoder } = await import('./notecoder.js');
    let note = '';
    for (let i = 0; note.length < target; i++) note += `${EXAMPLES[i % EXAMPLES.length].text}\n`;
    note = note.slice(0, target);
    const coder = await createNoteCoder({ model: 'models/coresponse-v1/' });
    const times = [];
    for (let n = 1; n <= note.length; n++) {
      const t0 = performance.now();
      await coder.suggest(note.slice(0, n));
      times.push(performance.now() - t0);
    }
    const t0 = performance.now();
    await coder.suggest(note.toUpperCase()); // a new text for every sentence: no score is reused
    const first = performance.now() - t0;
    coder.dispose();
    return { times, chars: note.length, first };
  }, NOTE_CHARS);
  await context.close();

  console.log(`notecoder browser benchmark (headless Chromium, ${server.url})`);
  console.log('');
  const row = (what, xs) => console.log(`${what.padEnd(44)}${ms(median(xs))}  ${ms(quantile(xs, 0.95))}  ${ms(Math.max(...xs))}`);
  console.log(`${'what'.padEnd(44)}${'p50'.padStart(8)}  ${'p95'.padStart(8)}  ${'max'.padStart(8)}   (ms)`);
  row(`cold start, navigation -> ready (n=${LOADS})`, cold);
  row(`suggest() per keystroke (n=${chars})`, times);
  console.log('');
  console.log(`cold start loads: ${cold.map((x) => x.toFixed(0)).join(', ')} ms`);
  console.log(`suggest() with every sentence changed (${chars} chars, no sentence cached): ${first.toFixed(1)} ms`);
} finally {
  await browser?.close();
  await server.close();
}
