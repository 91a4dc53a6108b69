// End-to-end: "Bring your history". A listener picks a ListenBrainz export in the settings, it
// goes up to POST /api/me/listens with progress, and the report shows what was stored, matched,
// skipped and left unmatched; the same file again adds nothing; a file that is no history is
// refused in words and stores nothing.
//   E2E_BASE_URL=http://127.0.0.1:8080 npm run e2e
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, byTestId, catalogStatus, launch, registerUser, SKIP, watchErrors } from './helpers.mjs';

/** The upload call answers (a 401 without a login) only once the server has it. */
async function uploadSupported() {
  if (!BASE_URL) return false;
  try {
    const res = await fetch(`${BASE_URL}/api/me/listens`, { method: 'POST' });
    return res.status !== 404 && res.status !== 405;
  } catch {
    return false;
  }
}

const skip = SKIP || ((await uploadSupported()) ? false : 'the server has no POST /api/me/listens yet');
if (skip) {
  it('bring your history end-to-end', { skip }, () => {});
}

/** A ListenBrainz JSONL export: a listen of each catalog track, one of an unknown band, one broken row. */
function listenBrainzExport(tracks) {
  const start = 1_700_000_000;
  const rows = tracks.map((t, i) => ({
    listened_at: start + i * 600,
    track_metadata: { artist_name: t.artists[0], track_name: t.title },
  }));
  rows.push({ listened_at: start + 9000, track_metadata: { artist_name: 'Nobody Heard Of Them e2e', track_name: 'Nowhere' } });
  rows.push({ track_metadata: { artist_name: 'Broken Row', track_name: 'No time' } });
  return Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

async function uploadFile(page, name, buffer) {
  await page.setInputFiles(byTestId('history-file'), { name, mimeType: 'application/json', buffer });
  await page.click(byTestId('history-upload'));
}

/** The server's upload limit when the runner set a small one (tests/e2e does): a 413 is then cheap to meet. */
const UPLOAD_LIMIT = Number(process.env.E2E_UPLOAD_LIMIT_BYTES || 0);

const count = async (page, id) => Number((await page.textContent(byTestId(id))).replace(/\D/g, ''));

describe('bring your history in a browser', { skip, concurrency: false }, () => {
  let browser;
  let page;
  let errors;
  let tracks;

  before(async () => {
    const status = await catalogStatus();
    assert.ok(status && status.tracks > 0, `this needs a catalog: ${JSON.stringify(status)}`);
    browser = await launch();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    errors = watchErrors(page);
    await registerUser(page);
    const reco = await page.evaluate(async () => (await (await fetch('/api/recommendations?limit=20')).json()).tracks);
    // Two different songs with an artist: both match by artist and title.
    const seen = new Set();
    tracks = reco.filter((t) => t.artists?.length && !seen.has(t.title) && seen.add(t.title)).slice(0, 2);
    assert.equal(tracks.length, 2, 'two catalog tracks to listen to');
  });

  after(async () => {
    await browser?.close();
  });

  it('uploads an export and shows the report', { timeout: 30_000 }, async () => {
    await page.locator(byTestId('history-import')).scrollIntoViewIfNeeded();
    await uploadFile(page, 'listens.jsonl', listenBrainzExport(tracks));
    await page.waitForSelector(byTestId('history-report'), { timeout: 20_000 });
    assert.match(await page.textContent(byTestId('history-report')), /2 listens added to your history\./);
    assert.equal(await count(page, 'history-stored'), 2);
    assert.equal(await count(page, 'history-duplicates'), 0);
    const matched = (await count(page, 'history-matched-uri')) + (await count(page, 'history-matched-title'));
    assert.equal(matched, 2, 'both catalog songs matched');
    assert.equal(await count(page, 'history-unmatched'), 1);
    assert.equal(await count(page, 'history-skipped'), 1);
    await page.click(`${byTestId('history-skipped-details')} summary`);
    assert.match(await page.textContent(byTestId('history-skipped-examples')), /Row \d+: .*listened_at/);
    assert.match(await page.textContent(byTestId('history-report-source')), /listens\.jsonl \(listenbrainz\)/);
  });

  it('the same file again adds nothing', { timeout: 30_000 }, async () => {
    await page.click(byTestId('history-report-close'));
    await uploadFile(page, 'listens.jsonl', listenBrainzExport(tracks));
    await page.waitForSelector(`${byTestId('history-report')}[data-stored="0"]`, { timeout: 20_000 });
    assert.match(await page.textContent(byTestId('history-report')), /Nothing new/);
    assert.equal(await count(page, 'history-duplicates'), 2);
  });

  it('a file that is no listening history is refused in words', { timeout: 30_000 }, async () => {
    await page.click(byTestId('history-report-close'));
    await uploadFile(page, 'notes.json', Buffer.from('{"this": "is not a history"'));
    await page.waitForSelector(byTestId('history-error'), { timeout: 20_000 });
    assert.equal(await page.getAttribute(byTestId('history-error'), 'data-status'), '422');
    assert.equal(await page.getAttribute(byTestId('history-error'), 'data-code'), 'unreadable_history');
    assert.match(await page.textContent(byTestId('history-error')), /could not be read as a listening history/);
  });

  it('a file over the server\'s limit is refused as too big', { skip: UPLOAD_LIMIT ? false : 'E2E_UPLOAD_LIMIT_BYTES is not set', timeout: 30_000 }, async () => {
    const line = `${JSON.stringify({ listened_at: 1_700_000_000, track_metadata: { artist_name: 'Big', track_name: 'File' } })}\n`;
    const big = Buffer.from(line.repeat(Math.ceil((4 * UPLOAD_LIMIT) / line.length)));
    await uploadFile(page, 'big.jsonl', big);
    await page.waitForSelector(`${byTestId('history-error')}[data-code="payload_too_large"]`, { timeout: 20_000 });
    assert.equal(await page.getAttribute(byTestId('history-error'), 'data-status'), '413');
    assert.match(await page.textContent(byTestId('history-error')), /too big for the server/);
    assert.deepEqual(errors, []);
  });
});
