// Privacy and odd input in a real Chromium: while a note is typed into the demo nothing is stored (localStorage,
// sessionStorage, IndexedDB, cookies; Cache Storage holds only the demo's own files, cached by its service
// worker for offline use), nothing is logged, nothing is requested; and the promise
// API gives exact UTF-16 evidence for text with a lone surrogate (half an emoji mid-typing) or pasted HTML.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WWW, launchBrowser, startServer, waitForOfflineCache, waitForReady, waitForSuggestions } from './harness.mjs';

/** A note with words that appear nowhere else, so any copy of it (or of a piece) can be found. */
const NOTE = 'Zanzibarian quokka-7731 reports SI w/ plan. Spoke w/ ofcs. Mother Wilhelmina called. Pt denied HI.';
const MARKERS = ['Zanzibarian', 'quokka-7731', 'Wilhelmina'];
/** The files the demo's service worker may cache (www/asset-manifest.json, written by scripts/build-www.sh). */
const MANIFEST = Object.keys(JSON.parse(readFileSync(join(WWW, 'asset-manifest.json'), 'utf8')).files);

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

test('typing a note stores nothing, logs nothing and requests nothing', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleText = [];
  page.on('console', (m) => consoleText.push(m.text()));
  page.on('pageerror', (e) => consoleText.push(e.message));
  try {
    await page.goto(server.url);
    await waitForReady(page);
    await waitForOfflineCache(page); // the demo's one-time downloads for offline use are over
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    await page.locator('#note').click();
    await page.keyboard.type(NOTE);
    const s = await waitForSuggestions(page);
    assert.equal(s.text, NOTE);
    assert.ok(s.codes.some((c) => c.suggested), 'the note was coded');
    const stored = await page.evaluate(async (manifest) => {
      const dbs = indexedDB.databases ? await indexedDB.databases() : [];
      return {
        local: Object.keys(localStorage).map((k) => k + localStorage.getItem(k)),
        session: Object.keys(sessionStorage).map((k) => k + sessionStorage.getItem(k)),
        indexedDB: dbs.map((d) => d.name),
        // Cache Storage: only the demo's own files (www/sw.js), never anything else.
        caches: (await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).map((r) => r.url))))
          .flat()
          .filter((u) => !manifest.includes(new URL(u).pathname.slice(1)) && new URL(u).pathname !== '/'),
        cookie: document.cookie,
      };
    }, MANIFEST);
    assert.deepEqual(stored, { local: [], session: [], indexedDB: [], caches: [], cookie: '' });
    const cookies = await context.cookies();
    assert.deepEqual(cookies, []);
    assert.deepEqual(requests, [], 'no request after load');
    for (const m of MARKERS) {
      assert.ok(!consoleText.some((t) => t.includes(m)), `the console carries note text (${m}): ${consoleText.join(' | ')}`);
    }
  } finally {
    await context.close();
  }
});

test('a lone surrogate and pasted HTML keep exact UTF-16 evidence', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    const out = await page.evaluate(async () => {
      const { createNoteCoder } = await import('./notecoder.js');
      const coder = await createNoteCoder({ model: 'models/coresponse-v1/' });
      const texts = [
        'Met w/ ofcs \uD83D. Pt denied SI/HI.', // a high surrogate alone: half an emoji, mid-typing
        'Pt denied SI/HI. \uDE00', // a low surrogate alone at the end
        '<p onclick="x()">Met w/ ofcs.</p> <b>Pt denied SI/HI.</b>',
        '\uD83D\uDE00\u200D Pt denied SI/HI.',
      ];
      const results = [];
      for (const text of texts) {
        const r = await coder.suggest(text);
        const risk = r.codes.find((c) => c.id === 'assessed.risk');
        results.push({
          text,
          inBounds: r.codes.every((c) => c.evidence.every((e) => e.start >= 0 && e.start < e.end && e.end <= text.length)),
          risk: risk.evidence.map((e) => text.slice(e.start, e.end)),
        });
      }
      coder.dispose();
      return results;
    });
    for (const r of out) {
      assert.ok(r.inBounds, `evidence out of bounds for ${JSON.stringify(r.text)}`);
      assert.ok(r.risk.some((t) => t.includes('Pt denied SI/HI.')), `${JSON.stringify(r.text)}: ${JSON.stringify(r.risk)}`);
    }
    assert.deepEqual(out[0].risk, ['Pt denied SI/HI.']);
  } finally {
    await context.close();
  }
});

test('a crash (a real WebAssembly trap) poisons only its worker: the next call gets a fresh model', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    const out = await page.evaluate(async () => {
      const { createNoteCoder } = await import('./notecoder.js');
      const coder = await createNoteCoder({ model: 'models/coresponse-v1/' });
      const before = await coder.suggest('Pt denied SI/HI.');
      let crash = null;
      try {
        await coder.__trapForTests();
      } catch (e) {
        crash = { name: e.name, message: e.message };
      }
      const after = await coder.suggest('Pt denied SI/HI.');
      const again = await coder.suggest('Mother reports poor sleep.');
      coder.dispose();
      const risk = (r) => r.codes.find((c) => c.id === 'assessed.risk').score;
      return { crash, same: risk(before) === risk(after), codes: again.codes.length };
    });
    assert.equal(out.crash?.name, 'ModelCrashError');
    assert.match(out.crash.message, /crashed/);
    assert.deepEqual({ same: out.same, codes: out.codes }, { same: true, codes: 10 });
  } finally {
    await context.close();
  }
});
