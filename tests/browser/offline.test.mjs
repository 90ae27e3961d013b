// Offline after the first visit: the demo's service worker (www/sw.js) caches the files of
// asset-manifest.json once each matches its SHA-256, and a file that does not match is never cached.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WWW, launchBrowser, startServer, waitForOfflineCache, waitForReady, waitForSuggestions } from './harness.mjs';

const browser = await launchBrowser();
const cleanup = [];
after(async () => {
  await browser.close().catch(() => {});
  for (const c of cleanup) await c();
});

test('after one visit the demo loads and codes a note with the network cut', async () => {
  const server = await startServer();
  cleanup.push(() => server.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    await waitForReady(page);
    await waitForOfflineCache(page);
    await context.setOffline(true);
    const failed = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.reload();
    await waitForReady(page);
    await page.locator('#note').fill('Spoke w/ ofcs. Pt denied SI/HI.');
    const s = await waitForSuggestions(page);
    assert.ok(s.codes.find((c) => c.id === 'assessed.risk').suggested);
    assert.deepEqual(failed, []);
  } finally {
    await context.close();
  }
});

test('a file that does not match its hash is never cached, and the page still works online', async () => {
  // The same www/, with a manifest that expects another model.onnx.
  const root = mkdtempSync(join(tmpdir(), 'notecoder-tampered-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  for (const entry of readdirSync(WWW)) {
    if (entry !== 'asset-manifest.json') symlinkSync(join(WWW, entry), join(root, entry));
  }
  const manifest = JSON.parse(readFileSync(join(WWW, 'asset-manifest.json'), 'utf8'));
  manifest.files['models/coresponse-v1/model.onnx'] = '0'.repeat(64);
  manifest.version = 'tampered';
  writeFileSync(join(root, 'asset-manifest.json'), JSON.stringify(manifest));
  const server = await startServer({ root });
  cleanup.push(() => server.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    await waitForReady(page);
    // Register (again: the demo's own attempt may already have failed) and follow this install to its end.
    const state = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.register('./sw.js');
      const sw = reg.installing ?? reg.waiting ?? reg.active;
      if (sw.state !== 'redundant' && sw.state !== 'activated') {
        await new Promise((resolve) => {
          sw.addEventListener('statechange', () => { if (sw.state === 'redundant' || sw.state === 'activated') resolve(); });
        });
      }
      return { state: sw.state, caches: await caches.keys() };
    });
    assert.equal(state.state, 'redundant', 'the install failed');
    assert.deepEqual(state.caches, []);
    await page.locator('#note').fill('Pt denied SI/HI.');
    const s = await waitForSuggestions(page);
    assert.ok(s.codes.find((c) => c.id === 'assessed.risk').suggested);
  } finally {
    await context.close();
  }
});
