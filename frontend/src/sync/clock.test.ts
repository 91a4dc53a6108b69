import { afterEach, describe, expect, it, vi } from 'vitest';
import { bestSample, sampleFrom, ServerClock } from './clock';

afterEach(() => vi.useRealTimers());

describe('clock samples', () => {
  it('offset = server time + half the round trip - receive time', () => {
    // Sent at 1000 (client), the server stamped 5060, back at 1100: rtt 100, offset 5060+50-1100.
    expect(sampleFrom(1000, 5060, 1100)).toEqual({ rttMs: 100, offsetMs: 4010, at: 1100 });
  });

  it('refuses an answer that came back before it was sent', () => {
    expect(sampleFrom(1000, 5000, 990)).toBeNull();
  });

  it('the sample with the smallest round trip wins, the newest among equals', () => {
    const a = { rttMs: 80, offsetMs: 10, at: 1 };
    const b = { rttMs: 12, offsetMs: 3, at: 2 };
    const c = { rttMs: 12, offsetMs: 4, at: 3 };
    expect(bestSample([a, b, c])).toBe(c);
    expect(bestSample([])).toBeNull();
  });
});

describe('ServerClock', () => {
  it('takes a burst at start, then one sample per interval, keeping the best round trip', () => {
    vi.useFakeTimers();
    let now = 10_000;
    const sent: number[] = [];
    const clock = new ServerClock({ send: (ms) => (sent.push(ms), true), now: () => now, burst: 3, burstSpacingMs: 100, intervalMs: 30_000 });
    expect(clock.offsetMs).toBe(0);
    expect(clock.synced).toBe(false);
    clock.start();
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(3);
    // The server is 500 ms ahead. A slow answer (asymmetric: late on the way back) is off...
    now = 10_300;
    clock.receive(10_000, 10_500 + 20); // rtt 300: offset 20+150-300+500 = 370
    expect(clock.offsetMs).toBeCloseTo(370);
    // ...a quick one is close to the truth and replaces it.
    now = 10_310;
    clock.receive(10_300, 10_805); // rtt 10: offset 10805+5-10310 = 500
    expect(clock.offsetMs).toBe(500);
    expect(clock.rttMs).toBe(10);
    expect(clock.serverNow()).toBe(10_810);
    // A later slow sample does not displace it.
    now = 11_000;
    clock.receive(10_800, 11_600);
    expect(clock.offsetMs).toBe(500);
    vi.advanceTimersByTime(30_000);
    expect(sent).toHaveLength(4);
    clock.reset();
    expect(clock.synced).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(4);
  });

  it('old samples age out so that a drifting clock is followed', () => {
    let now = 0;
    const clock = new ServerClock({ send: () => true, now: () => now, keep: 2 });
    now = 10;
    clock.receive(0, 1005); // rtt 10, offset 1000
    now = 1020;
    clock.receive(1000, 2030); // rtt 20, offset 1020
    now = 2020;
    clock.receive(2000, 3030); // rtt 20, offset 1020
    expect(clock.offsetMs).toBe(1020);
  });
});
