// Embedding under a strict Content-Security-Policy sent as a response header (it then applies to the worker
// too, which a <meta> policy does not), inside a same-origin iframe, and under a policy without
// 'wasm-unsafe-eval', where the API and the element must say what the policy has to allow.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { launchBrowser, startServer, waitForReady, waitForSuggestions } from './harness.mjs';

const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'";
const NO_WASM = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'";

const browser = await launchBrowser();
const servers = [];
after(async () => {
  await browser.close().catch(() => {});
  for (const s of servers) await s.close();
});
async function serve(csp) {
  const s = await startServer({ headers: { 'Content-Security-Policy': csp } });
  servers.push(s);
  return s;
}

test('the demo works under the strict policy as a header, and inside a same-origin iframe', async () => {
  const server = await serve(STRICT);
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused/i.test(m.text())) violations.push(m.text()); });
  try {
    await page.goto(server.url);
    await waitForReady(page);
    await page.locator('#note').fill('Spoke w/ ofcs. Pt denied SI/HI.');
    const s = await waitForSuggestions(page);
    assert.ok(s.codes.find((c) => c.id === 'assessed.risk').suggested);
    // The same page framed by a same-origin page (built with DOM calls: the policy forbids inline script).
    await page.evaluate(() => {
      document.body.replaceChildren();
      const f = document.createElement('iframe');
      f.src = './index.html';
      f.style.width = '900px';
      f.style.height = '700px';
      document.body.append(f);
    });
    const frame = page.frameLocator('iframe');
    await frame.locator('note-coder[state="ready"]').waitFor({ state: 'attached', timeout: 60000 });
    await frame.locator('#note').fill('Spoke w/ ofcs. Pt denied SI/HI.');
    await frame.locator('note-coder li.code:not([hidden])').first().waitFor();
    assert.deepEqual(violations, []);
  } finally {
    await context.close();
  }
});

test("without 'wasm-unsafe-eval' the API rejects and the element says what the policy must allow", async () => {
  const server = await serve(NO_WASM);
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    const err = await page.evaluate(async () => {
      const { createNoteCoder } = await import('./notecoder.js');
      try {
        await createNoteCoder({ model: 'models/coresponse-v1/' });
        return null;
      } catch (e) {
        return { name: e.name, message: e.message };
      }
    });
    assert.equal(err?.name, 'ModelLoadError');
    assert.match(err.message, /Content-Security-Policy.*'wasm-unsafe-eval'/);
    await page.waitForSelector('note-coder[state="error"]', { state: 'attached' });
    await page.locator('note-coder [role="status"]').filter({ hasText: /suggestions unavailable/i }).waitFor();
    const elementError = await page.locator('note-coder').evaluate((e) => e.error?.message);
    assert.match(elementError, /'wasm-unsafe-eval'/);
    await page.locator('#note').fill('Pt denied SI/HI.');
    assert.equal(await page.locator('#note').inputValue(), 'Pt denied SI/HI.');
  } finally {
    await context.close();
  }
});
