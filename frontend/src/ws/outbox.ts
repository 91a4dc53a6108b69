// Frames whose effect must not be lost (feedback, mood changes) wait here until the
// server acks their `ref`. Persisted in localStorage so a reload or a crash does not
// lose them; resent with the same ref after reconnecting (the server dedupes).
import type { ClientFrame } from './protocol';
import { newRef } from './protocol';

export type DurableFrame = Extract<ClientFrame, { type: 'feedback' } | { type: 'mood' }>;

export interface OutboxEntry {
  ref: string;
  frame: DurableFrame & { ref: string };
  queuedAt: number;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const OUTBOX_LIMIT = 500;

export class Outbox {
  private entries: OutboxEntry[] = [];
  private listeners = new Set<() => void>();

  constructor(
    private readonly storage: StorageLike | null,
    private readonly key: string,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = this.load();
  }

  private load(): OutboxEntry[] {
    if (!this.storage) return [];
    try {
      const raw = this.storage.getItem(this.key);
      if (!raw) return [];
      const parsed = JSON.parse(raw) as OutboxEntry[];
      if (!Array.isArray(parsed)) return [];
      return parsed.filter((e) => e && typeof e.ref === 'string' && e.frame && typeof e.frame.type === 'string');
    } catch {
      return [];
    }
  }

  private save(): void {
    if (this.storage) {
      try {
        if (this.entries.length === 0) this.storage.removeItem(this.key);
        else this.storage.setItem(this.key, JSON.stringify(this.entries));
      } catch {
        // Storage full or unavailable: the in-memory copy still works for this page.
      }
    }
    for (const fn of this.listeners) fn();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Queue a frame; gives it a ref when it has none. A newer mood change replaces an
   * unsent older one (only the latest mood matters).
   */
  add(frame: DurableFrame): OutboxEntry {
    const ref = frame.ref ?? newRef();
    const entry: OutboxEntry = { ref, frame: { ...frame, ref }, queuedAt: this.now() };
    if (frame.type === 'mood') this.entries = this.entries.filter((e) => e.frame.type !== 'mood');
    this.entries.push(entry);
    if (this.entries.length > OUTBOX_LIMIT) this.entries = this.entries.slice(-OUTBOX_LIMIT);
    this.save();
    return entry;
  }

  /** The server acked `ref`: forget it. Returns whether it was pending. */
  ack(ref: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.ref !== ref);
    if (this.entries.length === before) return false;
    this.save();
    return true;
  }

  /** Pending frames, oldest first, ready to (re)send. */
  pending(): OutboxEntry[] {
    return [...this.entries];
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
    this.save();
  }
}
