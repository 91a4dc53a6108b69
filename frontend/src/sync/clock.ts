// The server's clock as seen from this page. Each `clock` round trip is one sample:
//   offset = server_ms + rtt/2 - (client time when the answer arrived)
// which is exact when the way there and back take equally long; the error is at most rtt/2,
// so of the recent samples the one with the smallest round trip wins (NTP's rule).
// Invariant: serverNow() = clientNow() + offset, and offset is 0 until a first sample.

/** Milliseconds on a monotonic clock anchored to the epoch (finer than Date.now()). */
export function clientNow(): number {
  const perf = globalThis.performance;
  return perf && typeof perf.now === 'function' && perf.timeOrigin ? perf.timeOrigin + perf.now() : Date.now();
}

export interface ClockSample {
  rttMs: number;
  offsetMs: number;
  /** Client time the answer arrived. */
  at: number;
}

/** Turn one round trip into a sample; null when it makes no sense (an answer from the future). */
export function sampleFrom(clientSentMs: number, serverMs: number, clientReceivedMs: number): ClockSample | null {
  const rtt = clientReceivedMs - clientSentMs;
  if (!Number.isFinite(rtt) || rtt < 0 || !Number.isFinite(serverMs)) return null;
  return { rttMs: rtt, offsetMs: serverMs + rtt / 2 - clientReceivedMs, at: clientReceivedMs };
}

/** Of these samples, the one whose round trip was shortest (ties: the newest). */
export function bestSample(samples: readonly ClockSample[]): ClockSample | null {
  let best: ClockSample | null = null;
  for (const s of samples) if (!best || s.rttMs < best.rttMs || (s.rttMs === best.rttMs && s.at > best.at)) best = s;
  return best;
}

export interface ClockOptions {
  /** Sends one `clock` frame; returns whether it went out. */
  send: (clientMs: number) => boolean;
  now?: () => number;
  /** Samples taken quickly at start (and after each reconnect). */
  burst?: number;
  burstSpacingMs?: number;
  /** One more sample this often afterwards. */
  intervalMs?: number;
  /** How many recent samples the best one is chosen from (clocks drift: old ones age out). */
  keep?: number;
}

export class ServerClock {
  private samples: ClockSample[] = [];
  private timers: Array<ReturnType<typeof setTimeout>> = [];
  private interval: ReturnType<typeof setInterval> | null = null;
  private readonly now: () => number;
  private readonly opts: Required<Omit<ClockOptions, 'now'>>;

  constructor(options: ClockOptions) {
    this.now = options.now ?? clientNow;
    this.opts = { burst: 6, burstSpacingMs: 120, intervalMs: 30_000, keep: 8, ...options };
  }

  /** The offset in use (server minus client, ms); 0 before any sample. */
  get offsetMs(): number {
    return bestSample(this.samples)?.offsetMs ?? 0;
  }

  /** The round trip of the sample in use, or null before any. */
  get rttMs(): number | null {
    return bestSample(this.samples)?.rttMs ?? null;
  }

  get synced(): boolean {
    return this.samples.length > 0;
  }

  serverNow(): number {
    return this.now() + this.offsetMs;
  }

  /** Take a burst of samples now, then one every interval (call again after a reconnect). */
  start(): void {
    this.stop();
    for (let i = 0; i < this.opts.burst; i++) {
      this.timers.push(setTimeout(() => this.ping(), i * this.opts.burstSpacingMs));
    }
    this.interval = setInterval(() => this.ping(), this.opts.intervalMs);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
  }

  /** Forget every sample (e.g. the group was left). */
  reset(): void {
    this.stop();
    this.samples = [];
  }

  ping(): boolean {
    return this.opts.send(Math.round(this.now()));
  }

  /** The server's answer to a `clock` frame. */
  receive(clientMs: number, serverMs: number): ClockSample | null {
    const sample = sampleFrom(clientMs, serverMs, this.now());
    if (!sample) return null;
    this.samples.push(sample);
    if (this.samples.length > this.opts.keep) this.samples = this.samples.slice(-this.opts.keep);
    return sample;
  }
}
