// End-to-end: a fresh start while the backend still loads its catalog. The player shows
// "Loading the catalog… N%" and fills the queue by itself once it is ready (no reload).
// Runs on E2E_FRESH_BASE_URL when set: a backend started on an empty data directory with
// MUSICREC_DEMO_CATALOG=true (the demo loads in the background), which tests/e2e runs; it may
// have finished loading by the time this runs, and then only the end state is checked.
// Without it, on E2E_BASE_URL, only while that backend is loading; skipped otherwise.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, byTestId, catalogStatus, FRESH_BASE_URL, launch, randomUser, registerUser, SKIP, watchErrors } from './helpers.mjs';

const base = FRESH_BASE_URL || BASE_URL;

const status = SKIP ? null : await catalogStatus(base).catch(() => null);
const skip = SKIP || (status?.state === 'loading' || (FRESH_BASE_URL && status) ? false : `the catalog is not loading (${status?.state ?? 'no status'}): start the backend with an empty catalog and MUSICREC_DEMO_CATALOG=true`);

describe('a fresh start while the catalog loads', { skip, concurrency: false }, () => {
  let browser;
  let page;
  let errors;

  before(async () => {
    browser = await launch();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    errors = watchErrors(page);
  });

  after(async () => {
    await browser?.close();
  });

  it('shows the progress, then the queue arrives without a reload', { timeout: 300_000 }, async () => {
    await registerUser(page, randomUser(), base);
    let sawProgress = false;
    const still = await catalogStatus(base);
    if (still.state === 'loading') {
      await page.waitForSelector(byTestId('catalog-loading'), { timeout: 5000 });
      const text = await page.textContent(byTestId('catalog-loading'));
      assert.match(text, /(Loading the catalog|Rebuilding the catalog index)…( \d+%)?/);
      sawProgress = true;
    }
    await page.waitForSelector(byTestId('catalog-loading'), { state: 'detached', timeout: 280_000 });
    const done = await catalogStatus(base);
    assert.equal(done.state, 'ready', JSON.stringify(done));
    if (done.playable > 0) {
      await page.waitForSelector(`${byTestId('now-playing')}[data-track-id]`, { timeout: 15_000 });
      await page.waitForSelector(byTestId('queue-item'), { timeout: 15_000 });
      const playable = await page.$$eval('[data-testid="queue-item"]', (els) => els.map((e) => e.getAttribute('data-playable')));
      assert.ok(playable.every((p) => p === 'true'), `only playable tracks: ${playable.join(',')}`);
    } else {
      await page.waitForSelector(byTestId('nothing-playable'), { timeout: 5000 });
    }
    console.log(`# progress shown: ${sawProgress}`);
    assert.deepEqual(errors, []);
  });
});
