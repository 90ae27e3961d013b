// Shared by the tests, the benchmark and the screenshot: serve www/ and drive Debian's Chromium.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WWW = fileURLToPath(new URL('../../www/', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Serves `root` (default www/) with Python's http.server (serve.py) on a free port and waits until it answers.
 * @param {{root?: string, headers?: Record<string, string>}} [options]  a folder (symbolic links are followed)
 *   and response headers to add to every response (e.g. a Content-Security-Policy)
 * @returns {Promise<{url: string, close: () => Promise<void>}>}  url ends in `/`
 */
export async function startServer({ root = WWW, headers = {} } = {}) {
  if (!existsSync(new URL('../../www/pkg/notecoder_bg.wasm', import.meta.url))) {
    throw new Error('www/pkg/ is missing: run `bash scripts/build-www.sh` first');
  }
  const port = await freePort();
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['--header', `${k}: ${v}`]);
  const serve = fileURLToPath(new URL('./serve.py', import.meta.url));
  const proc = spawn('python3', [serve, String(port), root, ...headerArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  const close = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });

  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (exited) throw new Error(`http.server exited early (${JSON.stringify(exited)}):\n${log}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`http.server did not answer on ${url} within 15 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, close };
}

/** Launches headless Chromium the way the project's machines can run it. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Resolves when the demo's service worker (www/sw.js) is active and has cached the files of
 * www/asset-manifest.json: from then on the page makes no request at all, not even the worker's one-time
 * downloads for offline use.
 */
export async function waitForOfflineCache(page, timeout = 60000) {
  const { readFileSync } = await import('node:fs');
  const files = Object.keys(JSON.parse(readFileSync(new URL('../../www/asset-manifest.json', import.meta.url), 'utf8')).files);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(async (n) => {
    const keys = (await caches.keys()).filter((k) => k.startsWith('notecoder-'));
    return keys.length === 1 && (await (await caches.open(keys[0])).keys()).length >= n;
  }, files.length, { timeout, polling: 200 });
}

/** Resolves when the demo's <note-coder> has loaded its model. */
export function waitForReady(page, timeout = 60000) {
  return page.waitForSelector('note-coder[state="ready"]', { state: 'attached', timeout });
}

/** Resolves when the element has suggestions for exactly the textarea's current text; returns them. */
export async function waitForSuggestions(page, selector = 'note-coder', timeout = 20000) {
  const handle = await page.waitForFunction(
    (sel) => {
      const el = document.querySelector(sel);
      const s = el?.suggestions;
      return s && el.control && s.text === el.control.value && s.text !== '' ? s : null;
    },
    selector,
    { timeout },
  );
  return handle.jsonValue();
}

/** The demo's example notes (www/examples.js, an ES module outside any package) loaded into Node. */
export async function loadExamples() {
  const { readFile } = await import('node:fs/promises');
  const src = await readFile(new URL('../../www/examples.js', import.meta.url), 'utf8');
  const mod = await import(`data:text/javascript,${encodeURIComponent(src)}`);
  return mod.EXAMPLES;
}
