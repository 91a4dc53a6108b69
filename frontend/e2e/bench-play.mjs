#!/usr/bin/env node
// Start-latency benchmark (not a test): how long the player takes from "play this track" to
// the track actually sounding, for every track of the catalog that can play here.
//
//   E2E_BASE_URL=http://127.0.0.1:8080 node e2e/bench-play.mjs      (make bench-play)
//
// It registers a throwaway user in Debian's Chromium (playwright-core), lists the catalog's
// playable tracks, and asks the page's player (window.__musicrecPlayer) to start each one,
// reading requestedAt → startedAt from window.__musicrecPlayback ("started" = the <audio>
// element's `playing` event, or the synth's first note reached on the audio clock).
//
// Two passes over the tracks:
//   cold        the track is picked out of the blue (a search result, a click in the queue):
//               its media is fetched, parsed and voiced after the request;
//   prefetched  the player had the track ready (what a track change gets: the player fetches
//               the next queued track while the current one plays).
// Before the cold pass each track's media is fetched once from Node, so that a server-side
// first render (demo MIDI is rendered from the score on first request) is reported apart
// ("server first fetch") and not inside the player's start time.
//
// Options (environment): BENCH_LIMIT (at most this many tracks; default all), BENCH_ORDER=longest
// (the longest pieces first, with BENCH_LIMIT: the heaviest starts),
// BENCH_TIMEOUT_MS (give up on one track after this long; default 15000), CHROMIUM.
// Output: a readable table, then one line per figure: `BENCH play_start_p50 <ms> ms`, ...
import { BASE_URL, launch, registerUser, watchErrors } from './helpers.mjs';

const LIMIT = Number(process.env.BENCH_LIMIT ?? 0) || Infinity;
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 15_000);
const LISTEN_MS = 300;
const SCAN_CONCURRENCY = 8;
const MAX_MISSES = 200;

if (!BASE_URL) {
  console.error('set E2E_BASE_URL to the backend to measure, e.g. http://127.0.0.1:8080');
  process.exit(2);
}

async function getJson(path) {
  const res = await fetch(`${BASE_URL}${path}`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** Every playable track: a listing endpoint when the server has one, else a walk over the ids. */
async function playableTracks() {
  const status = await getJson('/api/catalog/status');
  if (!status) throw new Error('no /api/catalog/status on this server');
  if (status.state === 'loading') console.log(`# the catalog is still loading (${status.loaded}/${status.total}); measuring what is there`);
  const found = [];
  const listing = await getJson('/api/tracks?playable=true&limit=500');
  if (listing && Array.isArray(listing.tracks)) {
    let page = listing;
    for (;;) {
      found.push(...page.tracks.filter((t) => t.media?.playable && t.media.url));
      const all = process.env.BENCH_ORDER === 'longest'; // needs every track before choosing
      if (page.next_after == null || (!all && found.length >= LIMIT)) break;
      page = await getJson(`/api/tracks?playable=true&limit=500&after=${page.next_after}`);
    }
    // BENCH_ORDER=longest measures the longest pieces first (the heaviest to parse and voice).
    if (process.env.BENCH_ORDER === 'longest') found.sort((a, b) => (b.duration_ms ?? 0) - (a.duration_ms ?? 0));
    return { tracks: found.slice(0, LIMIT === Infinity ? undefined : LIMIT), status };
  }
  const total = status.tracks ?? 0;
  let seen = 0;
  let misses = 0;
  for (let start = 1; seen < total && misses < MAX_MISSES && found.length < LIMIT; start += SCAN_CONCURRENCY) {
    const ids = Array.from({ length: SCAN_CONCURRENCY }, (_, i) => start + i);
    const tracks = await Promise.all(ids.map((id) => getJson(`/api/tracks/${id}`)));
    for (const t of tracks) {
      if (!t) {
        misses += 1;
        continue;
      }
      misses = 0;
      seen += 1;
      if (t.media?.playable && t.media.url) found.push(t);
    }
  }
  return { tracks: found.slice(0, LIMIT === Infinity ? undefined : LIMIT), status };
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summary(samples) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { count: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms.at(-1) ?? NaN };
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);

/** Ask the page to start `id` and wait until it sounds; resolves with the timing or an error. */
async function startOne(page, id) {
  await page.evaluate((trackId) => window.__musicrecPlayer.play(trackId), id);
  try {
    const handle = await page.waitForFunction(
      (trackId) => {
        const t = window.__musicrecPlayback;
        return t && t.trackId === trackId && t.startedAt !== null ? t : null;
      },
      id,
      { timeout: TIMEOUT_MS, polling: 20 },
    );
    const t = await handle.jsonValue();
    // Listen a moment, as a person would: it also keeps the socket under the client's own
    // frame-rate limit (each start sends a play frame and two feedback events).
    await page.waitForTimeout(LISTEN_MS);
    return { ms: t.startedAt - t.requestedAt, prefetched: t.prefetched };
  } catch {
    const why = await page.evaluate(() => ({
      message: document.querySelector('[data-testid="playback-message"]')?.textContent ?? null,
      nowPlaying: document.querySelector('[data-testid="now-playing"]')?.getAttribute('data-track-id'),
      last: window.__musicrecPlayback,
    }));
    return { error: `${why.message ?? `not audible within ${TIMEOUT_MS} ms`} (now playing #${why.nowPlaying}, last timing ${JSON.stringify(why.last)})` };
  }
}

async function main() {
  const { tracks, status } = await playableTracks();
  console.log(`# ${BASE_URL}: ${status.tracks} tracks, ${status.playable} playable; measuring ${tracks.length}`);
  if (!tracks.length) {
    console.log('nothing in the catalog can play here: nothing to measure');
    process.exit(1);
  }

  const browser = await launch(['--autoplay-policy=no-user-gesture-required']);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const errors = watchErrors(page);
  await registerUser(page);
  await page.waitForFunction(() => !!window.__musicrecPlayer);
  await page.click('[data-testid="play-pause"]').catch(() => undefined); // a real gesture unlocks audio

  // Server side first: render/fetch each medium once.
  const server = [];
  for (const t of tracks) {
    const started = performance.now();
    const res = await fetch(`${BASE_URL}${t.media.url}`);
    await res.arrayBuffer();
    server.push({ id: t.id, ms: performance.now() - started, ok: res.ok });
  }

  const results = { cold: [], prefetched: [] };
  const failures = [];
  for (const t of tracks) {
    const r = await startOne(page, t.id);
    if (r.error) failures.push({ pass: 'cold', track: t, error: r.error });
    else results.cold.push({ track: t, ms: r.ms });
  }
  for (const t of tracks) {
    await page.evaluate(() => window.__musicrecPlayer.pause());
    const ready = await page.evaluate((id) => window.__musicrecPlayer.prefetch(id), t.id);
    if (!ready) {
      failures.push({ pass: 'prefetched', track: t, error: 'prefetch failed' });
      continue;
    }
    const r = await startOne(page, t.id);
    if (r.error) failures.push({ pass: 'prefetched', track: t, error: r.error });
    else results.prefetched.push({ track: t, ms: r.ms, prefetched: r.prefetched });
  }
  await page.evaluate(() => window.__musicrecPlayer.pause());
  await browser.close();

  const cold = summary(results.cold);
  const warm = summary(results.prefetched);
  const srv = summary(server);
  console.log('');
  console.log('Start latency: request → audible (ms)');
  console.log(`${pad('', 22)}${padL('count', 7)}${padL('p50', 9)}${padL('p95', 9)}${padL('max', 9)}`);
  for (const [name, s] of [
    ['cold (picked track)', cold],
    ['prefetched (next)', warm],
    ['server first fetch', srv],
  ]) {
    console.log(`${pad(name, 22)}${padL(s.count, 7)}${padL(fmt(s.p50), 9)}${padL(fmt(s.p95), 9)}${padL(fmt(s.max), 9)}`);
  }
  const byKind = {};
  for (const s of results.cold) (byKind[s.track.media.kind] ??= []).push(s);
  for (const [kind, samples] of Object.entries(byKind)) {
    const k = summary(samples);
    console.log(`${pad(`  cold, ${kind}`, 22)}${padL(k.count, 7)}${padL(fmt(k.p50), 9)}${padL(fmt(k.p95), 9)}${padL(fmt(k.max), 9)}`);
  }
  console.log('');
  console.log('The 10 slowest cold starts');
  for (const s of [...results.cold].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
    console.log(`  ${padL(fmt(s.ms), 8)} ms  #${pad(s.track.id, 6)} ${pad(s.track.media.kind, 6)} ${s.track.title}`);
  }
  if (failures.length) {
    console.log('');
    console.log(`${failures.length} starts failed`);
    for (const f of failures.slice(0, 20)) console.log(`  ${f.pass}: #${f.track.id} ${f.track.title}: ${f.error}`);
  }
  if (errors.length) console.log(`\n${errors.length} page errors, first: ${errors[0]}`);
  console.log('');
  console.log(`BENCH play_start_p50 ${fmt(cold.p50)} ms`);
  console.log(`BENCH play_start_p95 ${fmt(cold.p95)} ms`);
  console.log(`BENCH play_start_max ${fmt(cold.max)} ms`);
  console.log(`BENCH play_start_prefetched_p50 ${fmt(warm.p50)} ms`);
  console.log(`BENCH play_start_prefetched_p95 ${fmt(warm.p95)} ms`);
  console.log(`BENCH play_start_prefetched_max ${fmt(warm.max)} ms`);
  console.log(`BENCH play_start_failures ${failures.length}`);
  process.exit(failures.length && !results.cold.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
