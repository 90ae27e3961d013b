// The demo, the element and the promise API in a real Chromium, against the shipped model (www/ must be built:
// `bash scripts/build-www.sh`). Run with `npm test` in this folder.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, loadExamples, startServer, waitForOfflineCache, waitForReady, waitForSuggestions } from './harness.mjs';

const EXAMPLES = await loadExamples();

/** The note typed in the main test, and the codes a careful coder gives it under shared/framework.md. */
const NOTE = EXAMPLES.find((e) => e.id === 'overpass');
/** Hand-checked: codes the note must get... */
const EXPECTED = [
  'interacted.police', // "Met w/ Sgt on arrival, who reported ...", "Clinician advised ofcs ..."
  'interacted.individual', // "Clinician approached and spoke w/ pt ..."
  'assessed.symptoms', // "Pt tearful and hopeless ..."
  'assessed.history', // "Pt reports hx of MDD and one prior psych hospitalization."
  'assessed.risk', // "talking about jumping", "endorsed SI w/ plan to jump"
  'provided.clinical', // "Pt agreed to a voluntary eval at ED."
  'provided.police', // "Clinician advised ofcs to keep their distance ..."
];
/** ...and codes it must not get: no family, no provider contact, no practical help in this note. */
const NOT_EXPECTED = ['interacted.family', 'interacted.provider', 'provided.general'];

/** The note's sentences, as a coder splits them; every piece of evidence must be exactly one of these. */
const SENTENCES = NOTE.text.match(/[^.]+(?:\.|$)/g).map((s) => s.trim());

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

/** A fresh page that records console errors, uncaught errors and CSP violations. */
async function openDemo() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  await page.goto(server.url);
  return { context, page, problems };
}

const visibleCodes = (page) =>
  page.locator('note-coder li.code:not([hidden])').evaluateAll((items) => items.map((li) => li.dataset.code));

describe('demo page', () => {
  test('typing a note suggests its codes, highlights evidence, accepts a code, and makes no request', async (t) => {
    const { context, page, problems } = await openDemo();
    try {
      await waitForReady(page);
      await waitForOfflineCache(page); // the demo's one-time downloads for offline use are over
      const requests = [];
      context.on('request', (r) => requests.push(r.url()));

      await page.evaluate(() => {
        window.changes = [];
        document.addEventListener('notecoder:change', (e) => window.changes.push(e.detail));
      });

      await page.locator('#note').click();
      await page.keyboard.type(NOTE.text);
      const result = await waitForSuggestions(page);
      assert.equal(result.text, NOTE.text);

      const shown = await visibleCodes(page);
      const suggested = result.codes.filter((c) => c.suggested).map((c) => c.id);
      assert.deepEqual(shown.toSorted(), suggested.toSorted(), 'the panel shows exactly the suggested codes');
      const scores = Object.fromEntries(result.codes.map((c) => [c.id, c.score.toFixed(2)]));
      for (const id of EXPECTED) assert.ok(suggested.includes(id), `${id} should be suggested (scores: ${JSON.stringify(scores)})`);
      // Every hand-checked code must be suggested. Of the codes the note does not carry, one false positive is
      // tolerated and reported (model precision is measured by `notecoder eval` on the test split, not here);
      // two or more fail the test.
      const unexpected = NOT_EXPECTED.filter((id) => suggested.includes(id));
      if (unexpected.length) t.diagnostic(`model false positive on the demo note: ${unexpected} (scores: ${JSON.stringify(scores)})`);
      assert.ok(unexpected.length <= 1, `${unexpected} should not be suggested (scores: ${JSON.stringify(scores)})`);
      await assert.doesNotReject(
        page.locator('note-coder [role="status"]').filter({ hasText: `${suggested.length} codes suggested` }).waitFor(),
      );

      // Grouped by domain, under the codebook's domain labels.
      const groups = await page.locator('note-coder .domain').evaluateAll((gs) =>
        gs.map((g) => ({ label: g.querySelector('.domain-label').textContent, codes: [...g.querySelectorAll('li.code:not([hidden])')].map((li) => li.dataset.code) })),
      );
      assert.deepEqual(groups.map((g) => g.label), ['Interacted with', 'Assessed', 'Provided']);
      for (const g of groups) assert.ok(g.codes.length > 0);

      // Hover: the risk evidence is marked in the overlay, caret and selection untouched.
      const selectionBefore = await page.locator('#note').evaluate((t) => [t.selectionStart, t.selectionEnd, document.activeElement === t]);
      const risk = result.codes.find((c) => c.id === 'assessed.risk');
      const riskSentences = risk.evidence.map((e) => result.text.slice(e.start, e.end));
      await page.locator('note-coder li[data-code="assessed.risk"]').hover();
      const marks = page.locator('[data-notecoder-overlay] mark');
      await marks.first().waitFor({ state: 'visible' });
      const marked = await marks.allTextContents();
      assert.deepEqual(marked, riskSentences, 'the marks are the evidence sentences of the hovered code');
      for (const m of marked) assert.ok(SENTENCES.includes(m), `marked text is a whole sentence of the note: ${m}`);
      assert.ok(marked.some((m) => m.includes('endorsed SI w/ plan to jump')), 'the SI sentence is evidence of risk');
      assert.deepEqual(
        await page.locator('#note').evaluate((t) => [t.selectionStart, t.selectionEnd, document.activeElement === t]),
        selectionBefore,
      );
      assert.equal(await page.locator('#note').inputValue(), NOTE.text);

      // Keyboard focus on another code shows its evidence instead.
      await page.mouse.move(0, 0);
      await page.locator('note-coder li[data-code="assessed.history"]').focus();
      await page.waitForFunction(() => document.querySelector('[data-notecoder-overlay] mark')?.dataset.code === 'assessed.history');
      assert.deepEqual(await marks.allTextContents(), ['Pt reports hx of MDD and one prior psych hospitalization.']);

      // Accept by pointer, then by keyboard.
      const acceptRisk = page.locator('note-coder li[data-code="assessed.risk"] button.accept');
      assert.equal(await acceptRisk.getAttribute('aria-pressed'), 'false');
      await acceptRisk.click();
      assert.equal(await acceptRisk.getAttribute('aria-pressed'), 'true');
      assert.deepEqual(await page.evaluate(() => window.changes), [{ accepted: ['assessed.risk'] }]);
      await page.locator('note-coder li[data-code="provided.police"] button.accept').focus();
      await page.keyboard.press('Space');
      assert.deepEqual(await page.evaluate(() => window.changes.at(-1)), { accepted: ['assessed.risk', 'provided.police'] });
      assert.equal(await page.locator('#accepted').textContent(), 'Indicators of risk, Police assistance');

      // Dismiss by keyboard on the item itself: un-accepts the code and presses the dismiss button.
      await page.locator('note-coder li[data-code="provided.police"]').focus();
      await page.keyboard.press('Delete');
      assert.equal(await page.locator('note-coder li[data-code="provided.police"] button.dismiss').getAttribute('aria-pressed'), 'true');
      assert.deepEqual(await page.evaluate(() => window.changes.at(-1)), { accepted: ['assessed.risk'] });

      // Stale evidence is never painted: after an edit the marks go, and come back only once the new text is scored.
      await page.locator('note-coder li[data-code="assessed.risk"]').hover();
      await marks.first().waitFor({ state: 'visible' });
      await page.locator('note-coder').evaluate((e) => { e.debounce = 60000; });
      await page.locator('#note').press('Control+End');
      await page.keyboard.type(' Pt said he wants to die.');
      assert.equal(await marks.count(), 0, 'no mark while the suggestions are for older text');
      await page.locator('note-coder').evaluate((e) => { e.debounce = 150; e.refresh(); });
      const edited = await waitForSuggestions(page);
      assert.equal(edited.text, `${NOTE.text} Pt said he wants to die.`);
      await marks.first().waitFor({ state: 'visible' });
      const riskNow = edited.codes.find((c) => c.id === 'assessed.risk').evidence.map((e) => edited.text.slice(e.start, e.end));
      assert.deepEqual(await marks.allTextContents(), riskNow);

      await page.waitForTimeout(300);
      assert.deepEqual(requests, [], 'no request after the model was loaded');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a 200,000-character paste is scored whole while the textarea keeps taking keys', async () => {
    const { context, page, problems } = await openDemo();
    try {
      await waitForReady(page);
      const block = 'Met w/ ofcs on scene. Pt calm, oriented x3. Mother reports poor sleep. ';
      const paste = block.repeat(Math.ceil(200_000 / block.length));
      await page.locator('#note').fill(paste);
      // Typing goes on at once: the model runs in the worker, so the keys land while the paste is scored.
      await page.locator('#note').press('Control+End');
      await page.keyboard.type('Pt said he wants to die.');
      assert.equal(await page.locator('#note').inputValue(), `${paste}Pt said he wants to die.`);
      const result = await waitForSuggestions(page, 'note-coder', 60000);
      assert.equal(result.text.length, paste.length + 'Pt said he wants to die.'.length);
      // Every sentence was read (3 per block plus the typed one), none needed a second window.
      assert.deepEqual(result.coverage, {
        segments: 3 * (paste.length / block.length) + 1, windows: 3 * (paste.length / block.length) + 1,
        windowedSegments: 0, maxWindowsPerSegment: 1,
      });
      const risk = result.codes.find((c) => c.id === 'assessed.risk');
      assert.deepEqual(risk.evidence.map((e) => result.text.slice(e.start, e.end)), ['Pt said he wants to die.']);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('an example button loads a note and the element suggests for it', async () => {
    const { context, page, problems } = await openDemo();
    try {
      await waitForReady(page);
      const example = EXAMPLES.find((e) => e.id === 'group-home');
      await page.locator(`button[data-example="${example.id}"]`).click();
      const result = await waitForSuggestions(page);
      assert.equal(result.text, example.text);
      assert.ok((await visibleCodes(page)).length > 0);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe('promise API', () => {
  test('queued suggest calls collapse into the newest; results carry UTF-16 offsets', async () => {
    const { context, page } = await openDemo();
    try {
      const out = await page.evaluate(async () => {
        const { createNoteCoder } = await import('./notecoder.js');
        const coder = await createNoteCoder({ model: 'models/coresponse-v1/' });
        // A burst of requests behind a long note (none of it scored yet): the requests that queue up while the
        // worker is busy collapse into the newest. Which of the older ones are still run depends on timing.
        const { EXAMPLES } = await import('./examples.js');
        const long = Array.from({ length: 8 }, (_, i) => EXAMPLES.map((e) => e.text).join(` Visit ${i}. `)).join('\n');
        const texts = [long, 'Met w/ ofcs on scene.', 'Pt calm.', 'Pt seen.', 'Call 😀 logged. Met w/ pt’s mother by phone. Pt denied SI/HI.'];
        const answers = await Promise.all(texts.map((t) => coder.suggest(t)));
        const last = answers.at(-1);
        const slices = last.codes.flatMap((c) => c.evidence.map((e) => texts.at(-1).slice(e.start, e.end)));
        // A 5,000-character sentence with no punctuation is scored whole, in several windows, and says so.
        const runOn = 'the client was walking along the road talking about many things '.repeat(78) + 'and denied SI';
        const windowed = await coder.suggest(runOn);
        let typeError = null;
        try {
          await coder.suggest(42);
        } catch (e) {
          typeError = e.name;
        }
        const pending = coder.suggest('Pt calm.');
        coder.dispose();
        let abort = null;
        try {
          await pending;
        } catch (e) {
          abort = e.name;
        }
        return {
          superseded: answers.map((a) => a.superseded),
          coverage: last.coverage,
          runOnCoverage: windowed.coverage,
          codes: last.codes.length,
          domains: coder.codebook.domains.map((d) => d.id),
          slices,
          typeError,
          abort,
        };
      });
      assert.equal(out.superseded.at(-1), false, 'the newest request always runs');
      assert.ok(out.superseded.slice(0, -1).some(Boolean), `some older request was superseded: ${out.superseded}`);
      assert.equal(out.codes, 10);
      assert.deepEqual(out.coverage, { segments: 3, windows: 3, windowedSegments: 0, maxWindowsPerSegment: 1 });
      assert.equal(out.runOnCoverage.segments, 1);
      assert.equal(out.runOnCoverage.windowedSegments, 1);
      assert.ok(out.runOnCoverage.windows > 1 && out.runOnCoverage.windows === out.runOnCoverage.maxWindowsPerSegment);
      assert.deepEqual(out.domains, ['interacted', 'assessed', 'provided']);
      assert.ok(out.slices.length > 0);
      for (const s of out.slices) assert.ok(['Call 😀 logged.', 'Met w/ pt’s mother by phone.', 'Pt denied SI/HI.'].includes(s), `evidence slice: ${s}`);
      assert.equal(out.typeError, 'TypeError');
      assert.equal(out.abort, 'AbortError');
    } finally {
      await context.close();
    }
  });

  test('a bad model folder rejects createNoteCoder with a clear, typed error', async () => {
    const { context, page } = await openDemo();
    try {
      const errors = await page.evaluate(async () => {
        const { createNoteCoder, ModelLoadError } = await import('./notecoder.js');
        const attempt = async (options) => {
          try {
            await createNoteCoder(options);
            return null;
          } catch (e) {
            return { name: e.name, message: e.message, typed: e instanceof ModelLoadError };
          }
        };
        return [
          await attempt({ model: 'models/no-such-model/' }),
          await attempt({ model: 'models/coresponse-v1/', workerUrl: 'no-such-worker.js' }),
        ];
      });
      assert.equal(errors[0]?.name, 'ModelLoadError');
      assert.ok(errors[0].typed);
      assert.match(errors[0].message, /could not fetch model file http:\/\/127\.0\.0\.1:\d+\/models\/no-such-model\/\w+\.(json|onnx): HTTP 404/);
      assert.equal(errors[1]?.name, 'ModelLoadError');
      assert.match(errors[1].message, /worker failed/);
    } finally {
      await context.close();
    }
  });
});

describe('<note-coder> element', () => {
  test('shows "suggestions unavailable" when the model cannot load, and the textarea still works', async () => {
    const { context, page } = await openDemo();
    try {
      await page.evaluate(() => {
        const textarea = document.createElement('textarea');
        textarea.id = 'broken-note';
        const el = document.createElement('note-coder');
        el.setAttribute('for', 'broken-note');
        el.setAttribute('model', 'models/no-such-model/');
        document.body.append(textarea, el);
      });
      const el = page.locator('note-coder[for="broken-note"]');
      await page.waitForSelector('note-coder[for="broken-note"][state="error"]', { state: 'attached' });
      await el.locator('[role="status"]').filter({ hasText: /suggestions unavailable/i }).waitFor();
      assert.equal(await el.evaluate((e) => e.error?.name), 'ModelLoadError');
      await page.locator('#broken-note').click();
      await page.keyboard.type('Pt denied SI/HI.');
      assert.equal(await page.locator('#broken-note').inputValue(), 'Pt denied SI/HI.');
    } finally {
      await context.close();
    }
  });

  test('define() is idempotent and define.js can be loaded twice', async () => {
    const { context, page, problems } = await openDemo();
    try {
      await waitForReady(page);
      const out = await page.evaluate(async () => {
        const { NoteCoderElement } = await import('./note-coder.js');
        await import('./define.js?again');
        const first = NoteCoderElement.define();
        const other = NoteCoderElement.define('other-note-coder');
        return {
          same: first === NoteCoderElement && customElements.get('note-coder') === NoteCoderElement,
          other: customElements.get('other-note-coder') === other && other.prototype instanceof NoteCoderElement,
        };
      });
      assert.deepEqual(out, { same: true, other: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
