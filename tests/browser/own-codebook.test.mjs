// A model trained for another codebook (models/example-school-nurse/, three codes, written by
// `python training/train.py --codebook tests/fixtures/own-codebook/codebook.json --train
// tests/fixtures/own-codebook/notes.jsonl --out models/example-school-nurse`) loads in the promise API and in
// <note-coder> with no code change: labels, order and thresholds come from its folder.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForSuggestions } from './harness.mjs';

const MODEL = 'models/example-school-nurse/';
/** Hand-labeled under the codebook's rules: an injury, a parent contact, illness symptoms, one sentence each. */
const NOTE = 'Fell on the playground and scraped her knee. Called her dad, no answer. Complains of a headache and feels hot.';

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

test('the promise API and <note-coder> run a model trained for another codebook', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    const api = await page.evaluate(async ({ model, note }) => {
      const { createNoteCoder } = await import('./notecoder.js');
      const coder = await createNoteCoder({ model });
      const r = await coder.suggest(note);
      coder.dispose();
      return {
        ids: coder.codebook.codes.map((c) => c.id),
        suggested: r.codes.filter((c) => c.suggested).map((c) => [c.id, note.slice(c.evidence[0].start, c.evidence[0].end)]),
      };
    }, { model: MODEL, note: NOTE });
    assert.deepEqual(api.ids, ['visit.injury', 'visit.illness', 'visit.parent']);
    assert.deepEqual(new Map(api.suggested), new Map([
      ['visit.injury', 'Fell on the playground and scraped her knee.'],
      ['visit.illness', 'Complains of a headache and feels hot.'],
      ['visit.parent', 'Called her dad, no answer.'],
    ]));

    await page.evaluate((model) => {
      const textarea = document.createElement('textarea');
      textarea.id = 'nurse-note';
      const el = document.createElement('note-coder');
      el.setAttribute('for', 'nurse-note');
      el.setAttribute('model', model);
      document.body.append(textarea, el);
    }, MODEL);
    await page.waitForSelector('note-coder[for="nurse-note"][state="ready"]', { state: 'attached' });
    await page.locator('#nurse-note').fill(NOTE);
    const s = await waitForSuggestions(page, 'note-coder[for="nurse-note"]');
    assert.deepEqual(s.codes.filter((c) => c.suggested).map((c) => c.id).sort(), ['visit.illness', 'visit.injury', 'visit.parent']);
    const labels = await page.locator('note-coder[for="nurse-note"] li.code:not([hidden])').allInnerTexts();
    assert.ok(labels.some((l) => /injur/i.test(l)), `panel shows the codebook's labels: ${labels.join(' | ')}`);
  } finally {
    await context.close();
  }
});
