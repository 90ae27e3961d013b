import { startServer, launchBrowser, waitForReady } from '/work/main/tests/browser/harness.mjs';
const server = await startServer();
const browser = await launchBrowser();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const reqs = [];
  context.on('request', (r) => reqs.push(r.url()));
  page.on('console', (m) => console.log('console', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  const t0 = Date.now();
  await page.goto(server.url);
  await waitForReady(page);
  console.log('ready in', Date.now() - t0, 'ms');
  console.log(reqs);
  const out = await page.evaluate(async () => {
    const { EXAMPLES } = await import('./examples.js');
    const { createNoteCoder } = await import('./notecoder.js');
    const c = await createNoteCoder({ model: 'models/coresponse-v1/' });
    const res = [];
    for (const ex of EXAMPLES) {
      const r = await c.suggest(ex.text);
      res.push({ id: ex.id, want: ex.codes, got: r.codes.map(x => [x.id, +x.score.toFixed(2), x.suggested, x.evidence.map(e => ex.text.slice(e.start, e.end).slice(0, 50) + ' ' + e.score.toFixed(2))]) });
    }
    c.dispose();
    return res;
  });
  for (const r of out) {
    console.log('==', r.id);
    for (const [id, s, sug, ev] of r.got) console.log((r.want.includes(id) ? 'W ' : '  ') + (sug ? 'S ' : '  '), id.padEnd(22), s, JSON.stringify(ev));
  }
  await new Promise(r => setTimeout(r, 1000));
  console.log('after', reqs.length);
} finally {
  await browser.close();
  await server.close();
}
