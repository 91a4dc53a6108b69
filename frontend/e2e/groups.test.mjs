// End-to-end: "Listening together" with three listeners, each in their own browser context
// and account: the host starts a group, guest 1 joins by code, guest 2 by the link (logging in
// first); likes and skips reach all three queues within 1 s; after a track change and after a
// seek the three players stay within 150 ms of each other (read from the audio engine through
// window.__musicrec, on each page's clock); the host leaves and a guest becomes host; the new
// host ends the group and everyone is back on their own queue.
//   E2E_BASE_URL=http://127.0.0.1:8080 npm run e2e
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BASE_URL,
  byTestId,
  catalogStatus,
  launch,
  nowPlayingId,
  PASSWORD,
  queueSeq,
  randomUser,
  registerUser,
  SKIP,
  waitLive,
  waitQueueChange,
  watchErrors,
} from './helpers.mjs';

/** The group API answers (a 401 without a login) only once the server has it. */
async function groupsSupported() {
  if (!BASE_URL) return false;
  try {
    const res = await fetch(`${BASE_URL}/api/me/group`);
    return res.status !== 404 && res.status !== 405;
  } catch {
    return false;
  }
}

const skip = SKIP || ((await groupsSupported()) ? false : 'the server has no /api/me/group (groups) yet');
if (skip) {
  it('listening together end-to-end', { skip }, () => {});
}

const MAX_SPREAD_MS = 150;
const QUEUE_CHANGE_MS = 1000;

/** Each page's engine position and the page's own clock, read together. */
async function samples(pages) {
  return Promise.all(pages.map((p) => p.evaluate(() => window.__musicrec.sample())));
}

/** Spread (ms) of the three positions, each brought to the first page's reading instant. */
function spreadOf(readings) {
  const ref = readings[0].atMs;
  const aligned = readings.map((r) => r.positionMs - (r.atMs - ref));
  return Math.max(...aligned) - Math.min(...aligned);
}

/** Wait until every page's engine plays `trackId` (as a string or number). */
async function waitAllPlaying(pages, trackId, timeout = 20_000) {
  await Promise.all(
    pages.map((p) =>
      p.waitForFunction(
        (id) => {
          const h = window.__musicrec;
          return h && String(h.trackId()) === String(id) && h.playing() && h.position() > 0;
        },
        trackId,
        { timeout },
      ),
    ),
  );
}

/** Sample the positions a few times once the players settled; print and return the worst spread. */
async function measureSpread(pages, label) {
  await pages[0].waitForTimeout(2000); // a few correction ticks
  const spreads = [];
  for (let i = 0; i < 6; i++) {
    const readings = await samples(pages);
    if (readings.every((r) => r.playing && r.trackId === readings[0].trackId)) spreads.push(spreadOf(readings));
    await pages[0].waitForTimeout(250);
  }
  assert.ok(spreads.length >= 3, `${label}: the three players kept playing one track`);
  const worst = Math.max(...spreads);
  console.log(`# ${label}: position spread ${spreads.map((s) => s.toFixed(1)).join(', ')} ms (worst ${worst.toFixed(1)} ms)`);
  return worst;
}

/** Click `selector` on `actor`; resolve with how long each page's queue took to change. */
async function queueChangeTimes(actor, selector, pages) {
  const seqs = await Promise.all(pages.map((p) => queueSeq(p)));
  const started = Date.now();
  await actor.click(selector);
  return Promise.all(
    pages.map(async (p, i) => {
      await waitQueueChange(p, seqs[i], QUEUE_CHANGE_MS + 2000);
      return Date.now() - started;
    }),
  );
}

/** Move the seek bar the way a listener's drag does (input, then pointer up). */
async function seekTo(page, ms) {
  await page.evaluate((value) => {
    const el = document.querySelector('[data-testid="seek"]');
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    setter.call(el, String(value));
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new PointerEvent('pointerup', { bubbles: true }));
  }, ms);
}

describe('listening together in three browsers', { skip, concurrency: false }, () => {
  let browser;
  let host;
  let guest1;
  let guest2;
  let pages;
  let code;
  const errors = [];

  before(async () => {
    const status = await catalogStatus();
    assert.ok(status && status.playable > 0, `these scenarios need tracks that can play: ${JSON.stringify(status)}`);
    browser = await launch(['--autoplay-policy=no-user-gesture-required']);
    const open = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
      const page = await context.newPage();
      errors.push(watchErrors(page));
      return page;
    };
    [host, guest1, guest2] = await Promise.all([open(), open(), open()]);
    pages = [host, guest1, guest2];
  });

  after(async () => {
    await browser?.close();
  });

  it('the host starts a group: code, link and QR code', { timeout: 60_000 }, async () => {
    await registerUser(host);
    await host.waitForSelector('[data-testid^="mood-chip-"]');
    await host.click(byTestId('mood-chip-chill'));
    await host.fill(byTestId('group-name'), 'e2e party');
    await host.click(byTestId('group-start'));
    await host.waitForSelector(`${byTestId('group-active')}[data-role="host"]`, { timeout: 10_000 });
    code = (await host.textContent(byTestId('group-code'))).trim();
    assert.match(code, /^[A-Z2-9]{6}$/);
    assert.equal(await host.getAttribute(byTestId('group-link'), 'href'), `${BASE_URL}/join/${code}`);
    assert.match(await host.getAttribute(byTestId('group-qr'), 'src'), /^data:image\/svg\+xml/);
    await host.waitForSelector(`${byTestId('now-playing')}[data-track-id]`, { timeout: 15_000 });
  });

  it('guest 1 joins by code, guest 2 by the link after logging in', { timeout: 90_000 }, async () => {
    await registerUser(guest1);
    await guest1.fill(byTestId('group-code-input'), code.toLowerCase());
    await guest1.click(byTestId('group-join'));
    await guest1.waitForSelector(`${byTestId('group-active')}[data-role="guest"]`, { timeout: 10_000 });

    // Not logged in: the link shows the login page first, then lands in the group's player.
    await guest2.goto(`${BASE_URL}/join/${code}`);
    await guest2.waitForSelector(byTestId('login-page'));
    await guest2.click(byTestId('tab-register'));
    await guest2.fill(byTestId('username'), randomUser());
    await guest2.fill(byTestId('password'), PASSWORD);
    await guest2.click(byTestId('auth-submit'));
    await guest2.waitForSelector(`${byTestId('group-active')}[data-role="guest"]`, { timeout: 15_000 });
    await guest2.waitForURL(`${BASE_URL}/`);
    await waitLive(guest2);

    // Everyone sees three members, all present, one host.
    for (const p of pages) {
      await p.waitForFunction(
        () => {
          const rows = [...document.querySelectorAll('[data-testid="group-member"]')];
          return rows.length === 3 && rows.every((r) => r.dataset.present === 'true');
        },
        null,
        { timeout: 10_000 },
      );
      assert.equal(await p.$$eval(byTestId('host-badge'), (els) => els.length), 1);
    }
    const ids = await Promise.all(pages.map((p) => nowPlayingId(p)));
    assert.ok(ids[0] && ids.every((id) => id === ids[0]), `one shared track: ${ids}`);
  });

  it('all three play the shared track in step', { timeout: 60_000 }, async () => {
    for (const p of pages) await p.click(byTestId('play-pause'));
    const id = await nowPlayingId(host);
    await waitAllPlaying(pages, id);
    const worst = await measureSpread(pages, 'joined');
    assert.ok(worst <= MAX_SPREAD_MS, `positions within ${MAX_SPREAD_MS} ms (worst ${worst} ms)`);
  });

  it('a skip, then likes from each guest: all three queues change within 1 s', { timeout: 60_000 }, async () => {
    const before = await nowPlayingId(host);
    const skipTimes = await queueChangeTimes(host, byTestId('group-skip'), pages);
    console.log(`# host skip: queues changed after ${skipTimes.join(', ')} ms`);
    assert.ok(skipTimes.every((t) => t <= QUEUE_CHANGE_MS), `within ${QUEUE_CHANGE_MS} ms: ${skipTimes}`);
    await Promise.all(pages.map((p) => p.waitForSelector(`${byTestId('now-playing')}:not([data-track-id="${before}"])`)));
    for (const [who, page] of [['guest 1', guest1], ['guest 2', guest2]]) {
      const times = await queueChangeTimes(page, byTestId('like'), pages);
      console.log(`# ${who} like: queues changed after ${times.join(', ')} ms`);
      assert.ok(times.every((t) => t <= QUEUE_CHANGE_MS), `within ${QUEUE_CHANGE_MS} ms: ${times}`);
    }
  });

  it('after the track change and after a seek the players stay within 150 ms', { timeout: 90_000 }, async () => {
    const id = await nowPlayingId(host);
    await waitAllPlaying(pages, id);
    const afterChange = await measureSpread(pages, 'after the track change');
    assert.ok(afterChange <= MAX_SPREAD_MS, `after the track change: worst ${afterChange} ms`);

    const { positionMs } = await host.evaluate(() => window.__musicrec.sample());
    const duration = Number(await host.getAttribute(byTestId('seek'), 'max'));
    const target = Math.round(Math.min(positionMs + 20_000, duration * 0.6));
    await seekTo(host, target);
    await guest1.waitForFunction((t) => window.__musicrec.position() >= t - 1000, target, { timeout: 5000 });
    const afterSeek = await measureSpread(pages, 'after the seek');
    assert.ok(afterSeek <= MAX_SPREAD_MS, `after the seek: worst ${afterSeek} ms`);
  });

  it('the host leaves: a guest becomes host', { timeout: 60_000 }, async () => {
    await host.click(byTestId('group-leave'));
    await host.waitForSelector(byTestId('group-start'), { timeout: 15_000 });
    await Promise.all(
      [guest1, guest2].map((p) =>
        p.waitForFunction(() => document.querySelectorAll('[data-testid="group-member"]').length === 2, null, { timeout: 15_000 }),
      ),
    );
    await guest1.waitForFunction(
      () => document.querySelector('[data-testid="group-active"][data-role="host"]') || document.querySelectorAll('[data-testid="host-badge"]').length === 1,
      null,
      { timeout: 15_000 },
    );
    const roles = await Promise.all([guest1, guest2].map((p) => p.getAttribute(byTestId('group-active'), 'data-role')));
    assert.deepEqual(roles.filter((r) => r === 'host').length, 1, `one new host: ${roles}`);
  });

  it('the host ends the group: everyone is back on their own queue', { timeout: 30_000 }, async () => {
    const roles = await Promise.all([guest1, guest2].map((p) => p.getAttribute(byTestId('group-active'), 'data-role')));
    const [newHost, other] = roles[0] === 'host' ? [guest1, guest2] : [guest2, guest1];
    const seqs = await Promise.all([newHost, other].map((p) => queueSeq(p)));
    await newHost.click(byTestId('group-end'));
    for (const [i, p] of [newHost, other].entries()) {
      await p.waitForSelector(byTestId('group-start'), { timeout: 5000 });
      await waitQueueChange(p, seqs[i], 5000); // their own queue again
    }
    assert.match(await other.textContent(byTestId('group-notice')), /ended/);
    // The one who left first is on their own queue too.
    assert.equal(await host.$(byTestId('group-active')), null);
    assert.deepEqual(errors.flat(), [], 'no uncaught errors in the pages');
  });
});
