// Writes docs/demo.png: the demo with an example note loaded and one code hovered. `node screenshot.mjs`
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startServer, waitForReady, waitForSuggestions } from './harness.mjs';

const OUT = fileURLToPath(new URL('../../docs/demo.png', import.meta.url));
const EXAMPLE = process.argv[2] ?? 'overpass';
const CODE = process.argv[3] ?? 'assessed.risk';

const server = await startServer();
let browser;
try {
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1180, height: 760 }, deviceScaleFactor: 2 });
  await page.goto(server.url);
  await waitForReady(page);
  await page.locator(`button[data-example="${EXAMPLE}"]`).click();
  await waitForSuggestions(page);
  await page.locator(`note-coder li[data-code="${CODE}"]`).hover();
  await page.locator('[data-notecoder-overlay] mark').first().waitFor({ state: 'visible' });
  await mkdir(new URL('../../docs/', import.meta.url), { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser?.close();
  await server.close();
}
