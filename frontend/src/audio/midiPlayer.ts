// media.kind "midi": fetch the MIDI bytes and synthesize them in the browser with
// Tone.js (PolySynth voices per instrument family, simple synthesized drums).
// Fully offline: no samples are downloaded. Tone is loaded lazily on first use.
//
// Two steps, so the next track can be made ready while this one plays: preload() fetches and
// parses the file and builds its instruments; load() makes it the current track. Notes are
// scheduled by the player itself, a short window ahead on the audio clock, on the audio
// context's worker-driven tick (not throttled in background tabs): setting up costs the same
// for ten notes or ten thousand, and each player keeps its own position (no shared Transport).
import type { Track } from '../types';
import { sharedAudioContext } from './context';
import type { MediaPlayer } from './types';

type ToneModule = typeof import('tone');
type MidiModule = typeof import('@tonejs/midi');

let toneLoad: Promise<[ToneModule, MidiModule]> | null = null;
let toneOnContext: AudioContext | null = null;

/** Start loading Tone.js ahead of time (e.g. once logged in) so the first play is quick. */
export function preloadSynth(): Promise<[ToneModule, MidiModule]> {
  toneLoad ??= Promise.all([import('tone'), import('@tonejs/midi')]);
  return toneLoad;
}

const OSC_BY_FAMILY: Record<string, OscillatorType | 'fatsawtooth' | 'fattriangle' | 'fatsquare'> = {
  piano: 'triangle',
  'chromatic percussion': 'sine',
  organ: 'fatsquare',
  guitar: 'fattriangle',
  bass: 'triangle',
  strings: 'fatsawtooth',
  ensemble: 'fatsawtooth',
  brass: 'sawtooth',
  reed: 'square',
  pipe: 'sine',
  'synth lead': 'fatsawtooth',
  'synth pad': 'fattriangle',
};

interface NoteEvent {
  time: number;
  name: string;
  midi: number;
  duration: number;
  velocity: number;
}

interface Voice {
  percussion: boolean;
  family: string;
  /** Sorted by time. */
  notes: NoteEvent[];
}

/** A parsed MIDI file, ready to be voiced. */
export interface MidiData {
  durationS: number;
  /** When the first note sounds (s); leading silence is skipped on play. */
  firstNoteS: number;
  voices: Voice[];
}

interface Disposable {
  dispose(): unknown;
}

/** Plays one note of a voice at an audio-clock time. */
type Trigger = (note: NoteEvent, time: number) => void;

interface Instrument {
  notes: NoteEvent[];
  trigger: Trigger;
  /** Index of the next note to schedule. */
  cursor: number;
}

const DATA_CACHE_SIZE = 4;
const dataCache = new Map<string, Promise<MidiData>>();

/** Fetch and parse a MIDI file once (a few recent files are kept). */
export function loadMidiData(url: string): Promise<MidiData> {
  const hit = dataCache.get(url);
  if (hit) {
    dataCache.delete(url);
    dataCache.set(url, hit);
    return hit;
  }
  const p = (async () => {
    const [[, { Midi }], bytes] = await Promise.all([
      preloadSynth(),
      fetch(url, { credentials: 'same-origin' }).then((res) => {
        if (!res.ok) throw new Error(`MIDI download failed (${res.status})`);
        return res.arrayBuffer();
      }),
    ]);
    return parseMidi(new Midi(bytes));
  })();
  dataCache.set(url, p);
  p.catch(() => {
    if (dataCache.get(url) === p) dataCache.delete(url);
  });
  while (dataCache.size > DATA_CACHE_SIZE) dataCache.delete(dataCache.keys().next().value as string);
  return p;
}

type ParsedMidi = InstanceType<MidiModule['Midi']>;

export function parseMidi(midi: ParsedMidi): MidiData {
  const voices: Voice[] = midi.tracks
    .filter((t) => t.notes.length > 0)
    .map((t) => ({
      percussion: t.instrument.percussion || t.channel === 9,
      family: t.instrument.family,
      notes: t.notes
        .map((n) => ({
          time: n.time,
          name: n.name,
          midi: n.midi,
          duration: Math.max(0.04, n.duration),
          velocity: Math.max(0.05, Math.min(1, n.velocity)),
        }))
        .sort((a, b) => a.time - b.time),
    }));
  const firstNoteS = voices.reduce((m, v) => Math.min(m, v.notes[0]?.time ?? Infinity), Infinity);
  return {
    durationS: Math.max(midi.duration, 0.5),
    firstNoteS: Number.isFinite(firstNoteS) ? firstNoteS : 0,
    voices,
  };
}

/** First index whose note starts at or after `t`. */
function lowerBound(notes: NoteEvent[], t: number): number {
  let lo = 0;
  let hi = notes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (notes[mid].time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Leading silence shorter than this is kept. */
const LEAD_IN_MIN_S = 0.05;
/** Notes are handed to Web Audio this far ahead (s); ticks come every ~50 ms. */
const SCHEDULE_AHEAD_S = 0.15;
/** The first note of a start is scheduled this far ahead of the audio clock (s). */
const START_DELAY_S = 0.01;
/** Grace after the last note before the track counts as ended (s). */
const END_GRACE_S = 0.15;

export class MidiPlayer implements MediaPlayer {
  readonly kind = 'midi' as const;
  onEnded: (() => void) | null = null;
  onAudible: (() => void) | null = null;
  private tone: ToneModule | null = null;
  private built: Promise<MidiData> | null = null;
  private nodes: Disposable[] = [];
  private instruments: Instrument[] = [];
  private releasers: Array<() => void> = [];
  private out: InstanceType<ToneModule['Volume']> | null = null;
  private durationS = 0;
  private volume = 0.8;
  private loaded = false;
  private disposed = false;
  private ended = false;
  /** Track position (s) at `startedAt` on the audio clock; while paused, the position. */
  private offsetS = 0;
  /** Audio-clock time at which `offsetS` plays; null while paused. */
  private startedAt: number | null = null;
  private audibleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly tick = () => this.schedule();

  preload(track: Track): Promise<void> {
    return this.build(track).then(() => undefined);
  }

  async load(track: Track): Promise<number> {
    const data = await this.build(track);
    if (this.disposed || !this.tone) throw new Error('the player was closed');
    this.loaded = true;
    this.out?.toDestination();
    this.durationS = data.durationS;
    this.offsetS = data.firstNoteS >= LEAD_IN_MIN_S ? Math.min(data.firstNoteS, data.durationS) : 0;
    return this.durationS * 1000;
  }

  /** Fetch, parse and voice the file (once). */
  private build(track: Track): Promise<MidiData> {
    if (this.built) return this.built;
    const url = track.media.url;
    const p = (async () => {
      if (!url) throw new Error('no MIDI url');
      const [[Tone], data] = await Promise.all([preloadSynth(), loadMidiData(url)]);
      if (this.disposed) throw new Error('the player was closed');
      useSharedContext(Tone);
      this.tone = Tone;
      this.out = new Tone.Volume(Tone.gainToDb(Math.max(0.0001, this.volume)));
      this.nodes.push(this.out);
      const perVoiceDb = -6 - 3 * Math.log2(Math.max(1, data.voices.length));
      for (const v of data.voices) {
        const trigger = v.percussion ? this.addDrums(Tone, perVoiceDb) : this.addInstrument(Tone, v.family, perVoiceDb);
        this.instruments.push({ notes: v.notes, trigger, cursor: 0 });
      }
      return data;
    })();
    this.built = p;
    p.catch(() => {
      if (this.built === p) this.built = null; // load() tries again
    });
    return p;
  }

  private addInstrument(Tone: ToneModule, family: string, db: number): Trigger {
    const type = OSC_BY_FAMILY[family] ?? 'triangle';
    const sustained = family === 'strings' || family === 'ensemble' || family === 'synth pad' || family === 'organ';
    const synth = new Tone.PolySynth(Tone.Synth, {
      oscillator: { type } as never,
      envelope: sustained
        ? { attack: 0.08, decay: 0.2, sustain: 0.7, release: 0.6 }
        : { attack: 0.005, decay: 0.25, sustain: 0.35, release: 0.4 },
    });
    synth.maxPolyphony = 24;
    synth.volume.value = db;
    synth.connect(this.out!);
    this.nodes.push(synth);
    this.releasers.push(() => synth.releaseAll());
    return (n, time) => {
      synth.triggerAttackRelease(n.name, n.duration, time, n.velocity);
    };
  }

  private addDrums(Tone: ToneModule, db: number): Trigger {
    const kick = new Tone.MembraneSynth({ octaves: 6, pitchDecay: 0.04 });
    const snare = new Tone.NoiseSynth({ noise: { type: 'white' }, envelope: { attack: 0.001, decay: 0.15, sustain: 0 } });
    const hat = new Tone.NoiseSynth({ noise: { type: 'pink' }, envelope: { attack: 0.001, decay: 0.04, sustain: 0 } });
    const hatFilter = new Tone.Filter(7000, 'highpass');
    hat.connect(hatFilter);
    hatFilter.connect(this.out!);
    kick.volume.value = db;
    snare.volume.value = db - 8;
    hat.volume.value = db - 10;
    kick.connect(this.out!);
    snare.connect(this.out!);
    this.nodes.push(kick, snare, hat, hatFilter);
    // Monophonic drum voices refuse two hits at the same instant (or out of order): keep the first.
    const last = { kick: -1, snare: -1, hat: -1 };
    this.releasers.push(() => {
      last.kick = last.snare = last.hat = -1;
    });
    return (n, time) => {
      if (n.midi === 35 || n.midi === 36 || (n.midi >= 41 && n.midi <= 50 && n.midi % 2 === 1)) {
        if (time <= last.kick) return;
        last.kick = time;
        kick.triggerAttackRelease(n.midi <= 36 ? 'C1' : 'G1', 0.12, time, n.velocity);
      } else if (n.midi === 38 || n.midi === 40 || n.midi === 37 || n.midi === 39) {
        if (time <= last.snare) return;
        last.snare = time;
        snare.triggerAttackRelease(0.12, time, n.velocity);
      } else {
        if (time <= last.hat) return;
        last.hat = time;
        hat.triggerAttackRelease(n.midi === 46 || n.midi === 49 || n.midi === 57 ? 0.3 : 0.05, time, n.velocity * 0.7);
      }
    };
  }

  private get clock(): BaseAudioContext | null {
    return (this.tone?.getContext().rawContext as BaseAudioContext | undefined) ?? null;
  }

  async play(): Promise<void> {
    const Tone = this.tone;
    if (!Tone || !this.loaded) throw new Error('not loaded');
    if (this.startedAt !== null) return;
    if (Tone.getContext().state !== 'running') await Tone.start();
    const clock = this.clock;
    if (this.disposed || !clock) throw new Error('the player was closed');
    if (this.offsetS >= this.durationS) this.offsetS = 0;
    this.ended = false;
    this.startedAt = clock.currentTime + START_DELAY_S;
    for (const inst of this.instruments) inst.cursor = lowerBound(inst.notes, this.offsetS);
    // Audible once the first note still to come is reached on the audio clock.
    const next = this.instruments.reduce((m, i) => Math.min(m, i.notes[i.cursor]?.time ?? Infinity), Infinity);
    const audibleAt = this.startedAt + (Number.isFinite(next) ? Math.max(0, next - this.offsetS) : 0);
    Tone.getContext().on('tick', this.tick);
    this.schedule();
    this.watchAudible(audibleAt);
  }

  /** Hand Web Audio the notes of the next SCHEDULE_AHEAD_S, and notice the end. */
  private schedule(): void {
    const clock = this.clock;
    const startedAt = this.startedAt;
    if (!clock || startedAt === null) return;
    const now = clock.currentTime;
    const horizon = this.offsetS + (now + SCHEDULE_AHEAD_S - startedAt);
    for (const inst of this.instruments) {
      const { notes } = inst;
      while (inst.cursor < notes.length && notes[inst.cursor].time < horizon) {
        const n = notes[inst.cursor++];
        inst.trigger(n, Math.max(now, startedAt + (n.time - this.offsetS)));
      }
    }
    if (!this.ended && now >= startedAt + (this.durationS - this.offsetS) + END_GRACE_S) {
      this.ended = true;
      this.stopClock();
      this.offsetS = this.durationS;
      this.onEnded?.();
    }
  }

  private stopClock(): void {
    this.tone?.getContext().off('tick', this.tick);
    this.startedAt = null;
    this.clearAudibleTimer();
  }

  private watchAudible(target: number): void {
    this.clearAudibleTimer();
    const clock = this.clock;
    if (!clock) return;
    const check = () => {
      this.audibleTimer = null;
      if (this.startedAt === null) return;
      const left = target - clock.currentTime;
      if (left <= 0) {
        this.onAudible?.();
        return;
      }
      this.audibleTimer = setTimeout(check, Math.max(1, Math.min(50, left * 1000)));
    };
    check();
  }

  private clearAudibleTimer(): void {
    if (this.audibleTimer) clearTimeout(this.audibleTimer);
    this.audibleTimer = null;
  }

  pause(): void {
    if (this.startedAt === null) return;
    this.offsetS = this.position() / 1000;
    this.stopClock();
    for (const release of this.releasers) release();
  }

  seek(ms: number): void {
    const playing = this.startedAt !== null;
    if (playing) this.pause();
    this.offsetS = Math.min(Math.max(0, ms / 1000), this.durationS);
    if (playing) void this.play();
  }

  setVolume(volume: number): void {
    this.volume = volume;
    if (this.out && this.tone) this.out.volume.rampTo(this.tone.gainToDb(Math.max(0.0001, volume)), 0.05);
  }

  position(): number {
    const clock = this.clock;
    let s = this.offsetS;
    if (this.startedAt !== null && clock) s += Math.max(0, clock.currentTime - this.startedAt);
    return Math.min(this.durationS, Math.max(0, s)) * 1000;
  }

  duration(): number {
    return this.durationS * 1000;
  }

  dispose(): void {
    this.disposed = true;
    this.onEnded = null;
    this.onAudible = null;
    this.stopClock();
    for (const release of this.releasers) release();
    for (const node of this.nodes.reverse()) {
      try {
        node.dispose();
      } catch {
        /* already gone */
      }
    }
    this.nodes = [];
    this.instruments = [];
    this.releasers = [];
    this.out = null;
  }
}

/** Run Tone on the context that the listener's click unlocked (one shared context). */
function useSharedContext(Tone: ToneModule): void {
  const ctx = sharedAudioContext();
  if (ctx && toneOnContext !== ctx) {
    Tone.setContext(ctx);
    toneOnContext = ctx;
  }
}
