// WebSocket frame shapes and the codec (MessagePack binary frames; JSON text frames
// are understood too, as the server accepts and answers them for debugging).
import { decode as mpDecode, encode as mpEncode } from '@msgpack/msgpack';
import type { Group, LeftStatus } from '../groups/types';
import type { FeedbackAction, Mood, Track, User } from '../types';

export type ClientFrame =
  | { type: 'hello'; resume_after: number | null }
  | { type: 'ping' }
  | { type: 'next'; ref?: string }
  | { type: 'mood'; mood?: string; text?: string; energy?: number; valence?: number; ref?: string }
  | { type: 'feedback'; track_id: number; action: FeedbackAction; position_ms?: number; ref?: string }
  /** Play this track now: the server makes it now_playing and sends a new queue. */
  | { type: 'play'; track_id: number; ref?: string }
  // Listening together (groups/):
  | { type: 'group_join'; group_id: number | string; ref?: string }
  | { type: 'group_leave'; ref?: string }
  | { type: 'queue_add'; track_id: number; ref?: string }
  | { type: 'vote_skip'; ref?: string }
  | { type: 'clock'; client_ms: number }
  | { type: 'playback'; state: 'playing' | 'paused'; position_ms: number; ref?: string }
  | { type: 'ended'; track_id: number; ref?: string };

export interface WelcomeFrame { type: 'welcome'; seq: number; user: User }
export interface QueueFrame {
  type: 'queue';
  seq: number;
  now_playing: Track | null;
  tracks: Track[];
  mood: Mood | null;
  reason: string | null;
  /** Set when this is a group's queue (its tracks carry `added_by`). */
  group_id?: number | string | null;
}
export interface GroupFrame { type: 'group'; seq?: number; group: Group; status?: LeftStatus }
export interface PlaybackFrame {
  type: 'playback';
  seq?: number;
  track_id: number | null;
  state: 'playing' | 'paused';
  position_ms: number;
  server_ms: number;
}
export interface ClockFrame { type: 'clock'; client_ms: number; server_ms: number }
export interface AckFrame { type: 'ack'; seq?: number; ref: string | number }
export interface ErrorFrame { type: 'error'; seq?: number; code: string; message: string; ref?: string | number }
export interface PongFrame { type: 'pong'; seq?: number }

export type ServerFrame =
  | WelcomeFrame
  | QueueFrame
  | AckFrame
  | ErrorFrame
  | PongFrame
  | GroupFrame
  | PlaybackFrame
  | ClockFrame;

export class ProtocolError extends Error {}

/** Encode a client frame: a binary MessagePack map (default) or a JSON text frame. */
export function encodeFrame(frame: ClientFrame, format: 'binary' | 'text' = 'binary'): Uint8Array | string {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(frame)) if (v !== undefined) clean[k] = v;
  return format === 'text' ? JSON.stringify(clean) : mpEncode(clean);
}

/** MessagePack timestamps decode to Date; the app wants ISO strings like the JSON API. */
function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = normalize(v);
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Decode a server frame from a binary (ArrayBuffer / typed array) or text message. */
export function decodeFrame(data: ArrayBuffer | ArrayBufferView | string): ServerFrame {
  let raw: unknown;
  try {
    if (typeof data === 'string') raw = JSON.parse(data);
    else if (data instanceof ArrayBuffer) raw = mpDecode(new Uint8Array(data));
    else raw = mpDecode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (err) {
    throw new ProtocolError(`undecodable frame: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ProtocolError('frame is not a map');
  const frame = normalize(raw) as Record<string, unknown>;
  if (typeof frame.type !== 'string') throw new ProtocolError('frame has no type');
  if (frame.type === 'queue') {
    if (!Array.isArray(frame.tracks)) frame.tracks = [];
    if (frame.now_playing === undefined) frame.now_playing = null;
    if (frame.mood === undefined) frame.mood = null;
    if (frame.reason === undefined) frame.reason = null;
  }
  return frame as unknown as ServerFrame;
}

let refCounter = 0;
/** A unique reference for a client frame (the server echoes it in its ack and dedupes on it). */
export function newRef(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  refCounter += 1;
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${refCounter}`;
}
