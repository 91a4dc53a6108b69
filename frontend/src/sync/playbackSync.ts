// Where the shared track should be now, and how to get this player there.
// Pure functions: the group controller feeds them the latest `playback` frame, the server
// clock and what the audio engine reports, and applies the answer.
//
// Invariants: while playing, the target at server time T is position_ms + (T - server_ms),
// clamped to [0, duration]; paused, it is position_ms. Small drift is corrected without a
// jump where the player can (HTML audio: playbackRate within ±MAX_RATE_NUDGE); large drift,
// or any drift the player cannot absorb smoothly (the MIDI synth), is a seek.
import type { Playback } from '../groups/types';

/** Drift below this is left alone (the players' own clocks are not finer). */
export const DEAD_BAND_MS = 25;
/** Below this, HTML audio is nudged by its playback rate; above it, it seeks. */
export const SMOOTH_LIMIT_MS = 1000;
/** The most the rate moves away from 1 (±5 %): about inaudible for speech and music. */
export const MAX_RATE_NUDGE = 0.05;
/** The drift a nudge aims to absorb per second of playback, as a fraction (drift/2 s, capped). */
const NUDGE_HORIZON_MS = 2000;
/** The MIDI synth has no rate: it re-seeks past this (a re-seek is a 10 ms reschedule). */
export const MIDI_RESEEK_MS = 60;

/** The position (ms) the shared track is at, at server time `serverNowMs`. */
export function targetPosition(p: Pick<Playback, 'state' | 'position_ms' | 'server_ms'>, serverNowMs: number, durationMs?: number): number {
  let pos = p.position_ms;
  if (p.state === 'playing') pos += serverNowMs - p.server_ms;
  pos = Math.max(0, pos);
  return durationMs && durationMs > 0 ? Math.min(pos, durationMs) : pos;
}

export type Correction =
  | { kind: 'none' }
  | { kind: 'rate'; rate: number }
  | { kind: 'seek'; toMs: number };

export interface CorrectionInput {
  /** Where the player is (ms, its audio clock). */
  positionMs: number;
  /** Where it should be now. */
  targetMs: number;
  /** Whether the player can change its rate smoothly (HTML audio can; the MIDI synth cannot). */
  canNudgeRate: boolean;
}

/** How to bring a playing player back to the target. */
export function correction({ positionMs, targetMs, canNudgeRate }: CorrectionInput): Correction {
  const drift = positionMs - targetMs; // > 0: ahead
  const abs = Math.abs(drift);
  if (abs < DEAD_BAND_MS) return { kind: 'none' };
  if (abs >= SMOOTH_LIMIT_MS) return { kind: 'seek', toMs: targetMs };
  if (!canNudgeRate) return abs >= MIDI_RESEEK_MS ? { kind: 'seek', toMs: targetMs } : { kind: 'none' };
  const nudge = Math.min(MAX_RATE_NUDGE, abs / NUDGE_HORIZON_MS);
  return { kind: 'rate', rate: drift > 0 ? 1 - nudge : 1 + nudge };
}

/** Spread (max - min) of positions read at different instants, each brought to one instant. */
export function positionSpread(readings: ReadonlyArray<{ positionMs: number; atMs: number }>): number {
  if (readings.length < 2) return 0;
  const ref = readings[0].atMs;
  const aligned = readings.map((r) => r.positionMs - (r.atMs - ref));
  return Math.max(...aligned) - Math.min(...aligned);
}
