// media.kind "midi": fetch the MIDI bytes and synthesize them in the browser with
// Tone.js (PolySynth voices per instrument family, simple synthesized drums).
// Fully offline: no samples are downloaded. Tone is loaded lazily on first use.
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

interface Disposable {
  dispose(): unknown;
}

export class MidiPlayer implements MediaPlayer {
  readonly kind = 'midi' as const;
  onEnded: (() => void) | null = null;
  private tone: ToneModule | null = null;
  private nodes: Disposable[] = [];
  private releasers: Array<() => void> = [];
  private out: InstanceType<ToneModule['Volume']> | null = null;
  private durationS = 0;
  private volume = 0.8;
  private endTimer: ReturnType<typeof setTimeout> | null = null;
  private endEvent: number | null = null;

  async load(track: Track): Promise<number> {
    if (!track.media.url) throw new Error('no MIDI url');
    const [Tone, { Midi }] = await preloadSynth();
    this.tone = Tone;
    const ctx = sharedAudioContext();
    // Run Tone on the context that was unlocked by the listener's click (once).
    if (ctx && toneOnContext !== ctx) {
      Tone.setContext(ctx);
      toneOnContext = ctx;
    }

    const res = await fetch(track.media.url, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`MIDI download failed (${res.status})`);
    const midi = new Midi(await res.arrayBuffer());

    const transport = Tone.getTransport();
    transport.stop();
    transport.cancel(0);
    transport.seconds = 0;

    this.out = new Tone.Volume(Tone.gainToDb(Math.max(0.0001, this.volume))).toDestination();
    this.nodes.push(this.out);
    const voiced = midi.tracks.filter((t) => t.notes.length > 0);
    const perTrackDb = -6 - 3 * Math.log2(Math.max(1, voiced.length));
    for (const t of voiced) {
      const notes: NoteEvent[] = t.notes.map((n) => ({
        time: n.time,
        name: n.name,
        midi: n.midi,
        duration: Math.max(0.04, n.duration),
        velocity: Math.max(0.05, Math.min(1, n.velocity)),
      }));
      if (t.instrument.percussion || t.channel === 9) this.addDrums(Tone, notes, perTrackDb);
      else this.addInstrument(Tone, notes, t.instrument.family, perTrackDb);
    }
    this.durationS = Math.max(midi.duration, 0.5);
    this.endEvent = transport.scheduleOnce((time) => {
      const delay = Math.max(0, (time - Tone.getContext().currentTime) * 1000) + 150;
      this.endTimer = setTimeout(() => this.onEnded?.(), delay);
    }, this.durationS);
    return this.durationS * 1000;
  }

  private addInstrument(Tone: ToneModule, notes: NoteEvent[], family: string, db: number): void {
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
    const part = new Tone.Part<NoteEvent>((time, n) => {
      synth.triggerAttackRelease(n.name, n.duration, time, n.velocity);
    }, notes);
    part.start(0);
    this.nodes.push(part, synth);
    this.releasers.push(() => synth.releaseAll());
  }

  private addDrums(Tone: ToneModule, notes: NoteEvent[], db: number): void {
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
    // Monophonic drum voices refuse two hits at the same instant: keep the first.
    const last = { kick: -1, snare: -1, hat: -1 };
    const part = new Tone.Part<NoteEvent>((time, n) => {
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
    }, notes);
    part.start(0);
    this.nodes.push(part, kick, snare, hat, hatFilter);
  }

  async play(): Promise<void> {
    const Tone = this.tone;
    if (!Tone) throw new Error('not loaded');
    const ctx = Tone.getContext();
    if (ctx.state !== 'running') await Tone.start();
    Tone.getTransport().start('+0.05');
  }

  pause(): void {
    if (!this.tone) return;
    this.tone.getTransport().pause();
    for (const release of this.releasers) release();
  }

  seek(ms: number): void {
    if (!this.tone) return;
    for (const release of this.releasers) release();
    this.tone.getTransport().seconds = Math.min(Math.max(0, ms / 1000), this.durationS);
  }

  setVolume(volume: number): void {
    this.volume = volume;
    if (this.out && this.tone) this.out.volume.rampTo(this.tone.gainToDb(Math.max(0.0001, volume)), 0.05);
  }

  position(): number {
    if (!this.tone) return 0;
    return Math.min(this.durationS, Math.max(0, this.tone.getTransport().seconds)) * 1000;
  }

  duration(): number {
    return this.durationS * 1000;
  }

  dispose(): void {
    this.onEnded = null;
    if (this.endTimer) clearTimeout(this.endTimer);
    const Tone = this.tone;
    if (Tone) {
      const transport = Tone.getTransport();
      transport.stop();
      if (this.endEvent !== null) transport.clear(this.endEvent);
      transport.cancel(0);
    }
    for (const release of this.releasers) release();
    for (const node of this.nodes.reverse()) {
      try {
        node.dispose();
      } catch {
        /* already gone */
      }
    }
    this.nodes = [];
    this.releasers = [];
    this.out = null;
  }
}
