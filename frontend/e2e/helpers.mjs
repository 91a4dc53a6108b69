// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core
// (no browser download), the backend under test from E2E_BASE_URL.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

export const BASE_URL = (process.env.E2E_BASE_URL ?? '').replace(/\/$/, '');
export const RESTART_CMD = process.env.E2E_RESTART_CMD ?? '';
export const SCREENSHOT_DIR = resolve(process.env.E2E_SCREENSHOT_DIR ?? resolve(here, '../../docs/screenshots'));
export const SKIP = BASE_URL ? false : 'E2E_BASE_URL is not set';
/** A second, brand-new backend whose catalog is still loading when the tests begin (optional). */
export const FRESH_BASE_URL = (process.env.E2E_FRESH_BASE_URL ?? '').replace(/\/$/, '');

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--mute-audio',
      ...extraArgs,
    ],
  });
}

/** Collect uncaught page errors so a test can assert there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err?.stack ?? err)));
  return errors;
}

export async function screenshot(target, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = resolve(SCREENSHOT_DIR, name);
  await target.screenshot({ path, type: 'png', animations: 'disabled' });
  return path;
}

export const byTestId = (id) => `[data-testid="${id}"]`;

export async function waitLive(page, timeout = 15_000) {
  await page.waitForSelector('[data-testid="connection-status"][data-status="live"]', { timeout });
}

export async function queueSeq(page) {
  return page.getAttribute(byTestId('queue'), 'data-queue-seq');
}

/** Wait until the queue element shows a frame newer than `seq`; resolves with the time it took. */
export async function waitQueueChange(page, seq, timeout) {
  const started = Date.now();
  await page.waitForFunction(
    (old) => {
      const el = document.querySelector('[data-testid="queue"]');
      return el && el.getAttribute('data-queue-seq') !== old && el.getAttribute('data-queue-seq') !== '';
    },
    seq,
    { timeout, polling: 'raf' },
  );
  return Date.now() - started;
}

export function randomUser() {
  return `e2e_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export const PASSWORD = 'e2e-Password-123';

/** Register a fresh user on the login page; resolves on the player page with a live socket. */
export async function registerUser(page, username = randomUser(), base = BASE_URL) {
  await page.goto(`${base}/`);
  await page.waitForSelector(byTestId('login-page'));
  await page.click(byTestId('tab-register'));
  await page.fill(byTestId('username'), username);
  await page.fill(byTestId('password'), PASSWORD);
  await page.click(byTestId('auth-submit'));
  await page.waitForSelector(byTestId('player-page'));
  await waitLive(page);
  return username;
}

export async function nowPlayingId(page) {
  return page.getAttribute(byTestId('now-playing'), 'data-track-id');
}

/** Wait until the track now playing is `id` (a string). */
export async function waitNowPlaying(page, id, timeout = 5000) {
  await page.waitForSelector(`${byTestId('now-playing')}[data-track-id="${id}"]`, { timeout });
}

/** Wait until no feedback waits for the server's ack. */
export async function waitOutboxEmpty(page, timeout = 10_000) {
  await page.waitForSelector(byTestId('outbox-pending'), { state: 'detached', timeout });
}

export async function catalogStatus(base = BASE_URL) {
  const res = await fetch(`${base}/api/catalog/status`);
  return res.ok ? res.json() : null;
}
