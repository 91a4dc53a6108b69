import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../test/fakes';
import { Outbox, OUTBOX_LIMIT } from './outbox';

describe('Outbox', () => {
  it('assigns refs, keeps order and forgets acked entries', () => {
    const box = new Outbox(memoryStorage(), 'k');
    const a = box.add({ type: 'feedback', track_id: 1, action: 'skip', position_ms: 10 });
    const b = box.add({ type: 'feedback', track_id: 2, action: 'like', ref: 'mine' });
    expect(a.ref).toBeTruthy();
    expect(b.ref).toBe('mine');
    expect(box.pending().map((e) => (e.frame as { track_id?: number }).track_id)).toEqual([1, 2]);
    expect(box.pending()[0].frame.ref).toBe(a.ref);
    expect(box.ack(a.ref)).toBe(true);
    expect(box.ack(a.ref)).toBe(false);
    expect(box.pending().map((e) => e.ref)).toEqual(['mine']);
  });

  it('survives a reload through storage', () => {
    const storage = memoryStorage();
    const box = new Outbox(storage, 'k');
    const e = box.add({ type: 'feedback', track_id: 5, action: 'complete', position_ms: 1000 });
    const again = new Outbox(storage, 'k');
    expect(again.pending()).toEqual([e]);
    again.ack(e.ref);
    expect(storage.getItem('k')).toBeNull();
    expect(new Outbox(storage, 'k').size).toBe(0);
  });

  it('keeps only the latest mood change', () => {
    const box = new Outbox(null, 'k');
    box.add({ type: 'mood', mood: 'chill' });
    box.add({ type: 'feedback', track_id: 1, action: 'skip' });
    box.add({ type: 'mood', text: 'rainy' });
    expect(box.pending().map((e) => e.frame.type)).toEqual(['feedback', 'mood']);
    expect(box.pending()[1].frame).toMatchObject({ text: 'rainy' });
  });

  it('ignores corrupt storage and caps its size', () => {
    const storage = memoryStorage();
    storage.setItem('k', '{nope');
    const box = new Outbox(storage, 'k');
    expect(box.size).toBe(0);
    for (let i = 0; i < OUTBOX_LIMIT + 5; i++) box.add({ type: 'feedback', track_id: i, action: 'play' });
    expect(box.size).toBe(OUTBOX_LIMIT);
    expect((box.pending()[0].frame as { track_id?: number }).track_id).toBe(5);
  });

  it('notifies subscribers', () => {
    const box = new Outbox(null, 'k');
    let n = 0;
    const off = box.subscribe(() => n++);
    const e = box.add({ type: 'feedback', track_id: 1, action: 'play' });
    box.ack(e.ref);
    off();
    box.add({ type: 'feedback', track_id: 1, action: 'play' });
    expect(n).toBe(2);
  });
});
