import { describe, expect, it } from 'vitest';
import { correction, DEAD_BAND_MS, MAX_RATE_NUDGE, MIDI_RESEEK_MS, positionSpread, SMOOTH_LIMIT_MS, targetPosition } from './playbackSync';

describe('targetPosition', () => {
  it('while playing: the position plus the server time since', () => {
    expect(targetPosition({ state: 'playing', position_ms: 30_000, server_ms: 1_000_000 }, 1_004_250)).toBe(34_250);
  });

  it('while paused: where it was paused, whatever the time', () => {
    expect(targetPosition({ state: 'paused', position_ms: 30_000, server_ms: 1_000_000 }, 1_090_000)).toBe(30_000);
  });

  it('stays within the track', () => {
    expect(targetPosition({ state: 'playing', position_ms: 170_000, server_ms: 0 }, 20_000, 180_000)).toBe(180_000);
    expect(targetPosition({ state: 'playing', position_ms: 0, server_ms: 5_000 }, 4_000)).toBe(0);
  });
});

describe('correction', () => {
  it('leaves a tiny drift alone', () => {
    expect(correction({ positionMs: 10_010, targetMs: 10_000, canNudgeRate: true })).toEqual({ kind: 'none' });
    expect(correction({ positionMs: 10_000 - DEAD_BAND_MS + 1, targetMs: 10_000, canNudgeRate: false })).toEqual({ kind: 'none' });
  });

  it('HTML audio: a small drift is absorbed by the rate, within ±5 %, in the right direction', () => {
    const behind = correction({ positionMs: 9_800, targetMs: 10_000, canNudgeRate: true });
    expect(behind.kind).toBe('rate');
    if (behind.kind === 'rate') {
      expect(behind.rate).toBeGreaterThan(1);
      expect(behind.rate).toBeLessThanOrEqual(1 + MAX_RATE_NUDGE);
    }
    const ahead = correction({ positionMs: 10_900, targetMs: 10_000, canNudgeRate: true });
    expect(ahead).toEqual({ kind: 'rate', rate: 1 - MAX_RATE_NUDGE });
  });

  it('a large drift seeks to the target', () => {
    expect(correction({ positionMs: 2_000, targetMs: 2_000 + SMOOTH_LIMIT_MS, canNudgeRate: true })).toEqual({ kind: 'seek', toMs: 3_000 });
  });

  it('the MIDI synth (no rate) re-seeks past its threshold, and not below it', () => {
    expect(correction({ positionMs: 10_000 + MIDI_RESEEK_MS, targetMs: 10_000, canNudgeRate: false })).toEqual({ kind: 'seek', toMs: 10_000 });
    expect(correction({ positionMs: 10_000 + MIDI_RESEEK_MS - 1, targetMs: 10_000, canNudgeRate: false })).toEqual({ kind: 'none' });
  });
});

describe('positionSpread', () => {
  it('brings readings taken at different instants to one instant', () => {
    // Three players in step, read 40 and 90 ms apart.
    expect(positionSpread([
      { positionMs: 5_000, atMs: 100 },
      { positionMs: 5_040, atMs: 140 },
      { positionMs: 5_090, atMs: 190 },
    ])).toBe(0);
    expect(positionSpread([
      { positionMs: 5_000, atMs: 100 },
      { positionMs: 5_120, atMs: 100 },
    ])).toBe(120);
  });
});
