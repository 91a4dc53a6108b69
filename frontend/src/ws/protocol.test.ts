import { encode } from '@msgpack/msgpack';
import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { makeTrack } from '../test/fakes';
import { decodeFrame, encodeFrame, newRef, ProtocolError } from './protocol';

describe('codec', () => {
  it('encodes client frames as MessagePack maps and drops undefined fields', () => {
    const bytes = encodeFrame({ type: 'feedback', track_id: 7, action: 'skip', position_ms: 1234, ref: 'r1' });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(decode(bytes as Uint8Array)).toEqual({ type: 'feedback', track_id: 7, action: 'skip', position_ms: 1234, ref: 'r1' });
    const mood = encodeFrame({ type: 'mood', mood: 'chill', text: undefined });
    expect(decode(mood as Uint8Array)).toEqual({ type: 'mood', mood: 'chill' });
  });

  it('sends hello with an explicit null resume_after', () => {
    expect(decode(encodeFrame({ type: 'hello', resume_after: null }) as Uint8Array)).toEqual({ type: 'hello', resume_after: null });
  });

  it('round-trips a queue frame through MessagePack (ArrayBuffer and typed array)', () => {
    const frame = {
      type: 'queue',
      seq: 4,
      now_playing: makeTrack(1),
      tracks: [makeTrack(2), makeTrack(3)],
      mood: { preset: 'chill', text: null, energy: 0.3, valence: 0.6, label: 'Chill', updated_at: 'x' },
      reason: 'mood changed',
    };
    const bytes = encode(frame);
    const view = new Uint8Array(bytes.byteLength + 4);
    view.set(bytes, 2);
    expect(decodeFrame(view.subarray(2, 2 + bytes.byteLength))).toEqual(frame);
    expect(decodeFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))).toEqual(frame);
  });

  it('understands JSON text frames and can encode them', () => {
    expect(decodeFrame('{"type":"pong","seq":2}')).toEqual({ type: 'pong', seq: 2 });
    expect(JSON.parse(encodeFrame({ type: 'ping' }, 'text') as string)).toEqual({ type: 'ping' });
  });

  it('fills missing queue fields and turns MessagePack timestamps into ISO strings', () => {
    const at = new Date('2026-03-01T10:00:00Z');
    const f = decodeFrame(encode({ type: 'queue', seq: 1, tracks: undefined, mood: { updated_at: at } }));
    expect(f).toMatchObject({ type: 'queue', now_playing: null, tracks: [], reason: null });
    expect((f as { mood: { updated_at: string } }).mood.updated_at).toBe('2026-03-01T10:00:00.000Z');
  });

  it('rejects garbage', () => {
    expect(() => decodeFrame('not json')).toThrow(ProtocolError);
    expect(() => decodeFrame(encode([1, 2]))).toThrow(ProtocolError);
    expect(() => decodeFrame(encode({ seq: 1 }))).toThrow(ProtocolError);
    expect(() => decodeFrame(new Uint8Array([0xc1]))).toThrow(ProtocolError);
  });

  it('makes unique refs', () => {
    const refs = new Set(Array.from({ length: 100 }, newRef));
    expect(refs.size).toBe(100);
  });
});
