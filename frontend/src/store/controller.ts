// The app's behaviour: wires the HTTP client, the socket, the audio engine and the
// store together. Components call these methods; they never talk to the network.
import { createContext, useContext } from 'react';
import { api as defaultApi, ApiError, setUnauthorizedHandler } from '../api/client';
import { PlaybackEngine } from '../audio/engine';
import { preloadSynth } from '../audio/midiPlayer';
import { coverDataUrl } from '../components/coverArt';
import { loadPrefs, safeStorage, savePrefs } from '../lib/prefs';
import { navigate } from '../lib/router';
import type { FeedbackAction, Filters, Mood, MoodRequest, Track, User } from '../types';
import { Outbox } from '../ws/outbox';
import type { ServerFrame } from '../ws/protocol';
import { ReconnectingSocket, wsUrl, type SocketOptions } from '../ws/socket';
import { currentTrack, moodMatches, type Theme } from './state';
import type { Store } from './store';

export interface ControllerDeps {
  api?: typeof defaultApi;
  storage?: Storage | null;
  createSocket?: (opts: SocketOptions) => ReconnectingSocket;
  engine?: PlaybackEngine;
  wsUrl?: string;
}

let toastSeq = 0;

export class Controller {
  readonly api: typeof defaultApi;
  private readonly storage: Storage | null;
  private readonly createSocket: (opts: SocketOptions) => ReconnectingSocket;
  readonly engine: PlaybackEngine;
  private socket: ReconnectingSocket | null = null;
  private outbox: Outbox | null = null;
  private outboxUnsub: (() => void) | null = null;
  private unsubs: Array<() => void> = [];
  private nextAskedForSeq: number | null | undefined = undefined;
  private lastMetaTrackId: number | null = null;

  constructor(
    readonly store: Store,
    private readonly deps: ControllerDeps = {},
  ) {
    this.api = deps.api ?? defaultApi;
    this.storage = deps.storage === undefined ? safeStorage() : deps.storage;
    this.createSocket = deps.createSocket ?? ((opts) => new ReconnectingSocket(opts));
    this.engine =
      deps.engine ??
      new PlaybackEngine({
        onLoading: (track, kind, durationMs) =>
          this.store.dispatch({ type: 'playback/loading', trackId: track.id, mediaKind: kind, durationMs }),
        onStatus: (status, message) => this.store.dispatch({ type: 'playback/status', status, message }),
        onProgress: (positionMs, durationMs) => this.store.dispatch({ type: 'playback/progress', positionMs, durationMs }),
        onStarted: (track) => this.feedback(track, 'play', 0),
        onEnded: (track, positionMs) => this.handleEnded(track, positionMs),
      });
  }

  private get dispatch() {
    return this.store.dispatch;
  }

  // --- start-up and auth -----------------------------------------------------

  async boot(): Promise<void> {
    const prefs = loadPrefs(this.storage);
    this.dispatch({ type: 'theme/set', theme: prefs.theme });
    this.dispatch({ type: 'playback/volume', volume: prefs.volume });
    this.dispatch({ type: 'filters/set', filters: prefs.filters });
    this.engine.setVolume(prefs.volume);
    this.applyTheme(prefs.theme);
    setUnauthorizedHandler(() => this.loggedOut('Your session has ended. Please log in again.'));
    this.unsubs.push(this.store.subscribe(() => this.sync()));
    this.installMediaSession();
    await this.checkSession();
  }

  async checkSession(): Promise<void> {
    try {
      const me = await this.api.me();
      this.authenticated(me.user, me.mood);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.dispatch({ type: 'auth/loggedOut' });
      else this.dispatch({ type: 'auth/unreachable' });
    }
  }

  async login(username: string, password: string): Promise<void> {
    const { user } = await this.api.login(username, password);
    await this.afterAuth(user);
  }

  async register(username: string, password: string): Promise<void> {
    const { user } = await this.api.register(username, password);
    await this.afterAuth(user);
  }

  private async afterAuth(user: User): Promise<void> {
    let mood: Mood | null = null;
    try {
      mood = (await this.api.me()).mood;
    } catch {
      /* the queue frame brings the mood too */
    }
    this.authenticated(user, mood);
    if (window.location.pathname === '/login') navigate('/', true);
  }

  private authenticated(user: User, mood: Mood | null): void {
    this.dispatch({ type: 'auth/loggedIn', user, mood });
    this.api
      .moods()
      .then((r) => this.dispatch({ type: 'moods/loaded', moods: r.moods ?? [] }))
      .catch(() => this.toast('Could not load the mood presets.', 'error'));
    this.openSocket(user);
    const idle = (globalThis as { requestIdleCallback?: (fn: () => void) => void }).requestIdleCallback;
    if (idle) idle(() => void preloadSynth().catch(() => undefined));
  }

  private openSocket(user: User): void {
    this.closeSocket();
    const outbox = new Outbox(this.storage, `musicrec.outbox.${user.id}`);
    this.outbox = outbox;
    this.dispatch({ type: 'outbox/size', size: outbox.size });
    this.outboxUnsub = outbox.subscribe(() => this.dispatch({ type: 'outbox/size', size: outbox.size }));
    this.socket = this.createSocket({
      url: this.deps.wsUrl ?? wsUrl(),
      outbox,
      onFrame: (f) => this.handleFrame(f),
      onState: (state) => {
        this.dispatch({ type: 'connection/state', state });
        if (state.status === 'unauthorized') this.loggedOut('Your session has ended. Please log in again.');
        if (state.status === 'failed') this.toast(state.message, 'error');
      },
      checkAuth: async () => {
        try {
          await this.api.me();
          return 'ok';
        } catch (err) {
          return err instanceof ApiError && err.status === 401 ? 'unauthorized' : 'unknown';
        }
      },
    });
    this.socket.start();
  }

  private closeSocket(): void {
    this.socket?.stop();
    this.socket = null;
    this.outboxUnsub?.();
    this.outboxUnsub = null;
    this.outbox = null;
  }

  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } catch {
      /* the session is gone locally either way */
    }
    this.loggedOut(null);
  }

  private loggedOut(message: string | null): void {
    if (this.store.getState().auth.status !== 'authenticated') return;
    this.closeSocket();
    this.engine.stop();
    this.dispatch({ type: 'auth/loggedOut' });
    if (message) this.toast(message, 'error');
    navigate('/login', true);
  }

  retryConnection(): void {
    this.socket?.retryNow();
  }

  // --- server frames ---------------------------------------------------------

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'queue': {
        this.dispatch({ type: 'ws/queue', frame });
        const mood = frame.mood;
        if (mood && this.outbox) {
          // The mood echo proves the change is stored even if its ack went missing.
          for (const e of this.outbox.pending()) {
            if (e.frame.type === 'mood' && moodMatches(e.frame, mood)) this.outbox.ack(e.ref);
          }
        }
        break;
      }
      case 'error':
        this.toast(frame.message || frame.code, 'error');
        if (this.store.getState().moodPending) this.dispatch({ type: 'mood/failed' });
        break;
      default:
        break;
    }
  }

  // --- keeping the audio engine on the right track ---------------------------

  private sync(): void {
    const s = this.store.getState();
    if (s.auth.status !== 'authenticated') return;
    const track = currentTrack(s);
    if (track?.id !== this.engine.trackId) {
      if (track && s.playback.wantsToPlay) void this.engine.load(track, true);
      else if (this.engine.trackId !== null) {
        this.engine.stop();
        this.dispatch({ type: 'playback/stopped' });
      }
    }
    if (
      !track &&
      s.source.kind === 'queue' &&
      s.playback.wantsToPlay &&
      s.queue.length > 0 &&
      this.socket?.isLive &&
      this.nextAskedForSeq !== s.queueSeq
    ) {
      this.nextAskedForSeq = s.queueSeq;
      this.socket.send({ type: 'next' });
    }
    this.updateMediaSession(track, s.playback.status);
  }

  private handleEnded(track: Track, positionMs: number): void {
    this.feedback(track, 'complete', positionMs);
    this.advance(track);
  }

  /** Move past `track` locally; the server's next queue frame confirms or corrects it. */
  private advance(track: Track): void {
    const s = this.store.getState();
    if (s.source.kind === 'mix') {
      const index = s.source.index + 1;
      if (index < s.mix.tracks.length) this.dispatch({ type: 'source/set', source: { kind: 'mix', index } });
      else {
        this.dispatch({ type: 'source/set', source: { kind: 'queue' } });
        this.toast('Quick Mix finished: back to your live queue.');
      }
    } else {
      this.dispatch({ type: 'queue/advanceLocal', fromTrackId: track.id });
    }
  }

  // --- listener actions ------------------------------------------------------

  feedback(track: Track, action: FeedbackAction, positionMs?: number): void {
    if (!this.socket) return;
    this.socket.sendDurable({
      type: 'feedback',
      track_id: track.id,
      action,
      ...(positionMs !== undefined ? { position_ms: Math.max(0, Math.round(positionMs)) } : {}),
    });
  }

  play(): void {
    this.engine.unlock();
    this.dispatch({ type: 'playback/wantsToPlay', value: true });
    const s = this.store.getState();
    const track = currentTrack(s);
    if (!track) {
      if (s.queue.length === 0) this.toast('Nothing to play yet: pick a mood to get a queue.');
      return;
    }
    if (this.engine.trackId === track.id) void this.engine.play();
    // else sync() (run by the dispatch above) has started loading it
  }

  pause(): void {
    this.dispatch({ type: 'playback/wantsToPlay', value: false });
    this.engine.pause();
  }

  togglePlay(): void {
    const { wantsToPlay, status } = this.store.getState().playback;
    if (wantsToPlay && (this.engine.isPlaying || status === 'loading')) this.pause();
    else this.play();
  }

  /** Skip the current track (or ask the server for one when nothing is current). */
  next(): void {
    this.engine.unlock();
    const s = this.store.getState();
    const track = currentTrack(s);
    if (track) {
      const position = this.engine.trackId === track.id ? this.engine.position() : 0;
      this.feedback(track, 'skip', position);
      this.advance(track);
      return;
    }
    if (s.source.kind === 'queue') {
      if (!this.socket?.send({ type: 'next' })) this.toast('Offline: cannot ask for the next track right now.', 'error');
    }
  }

  like(): void {
    const track = currentTrack(this.store.getState());
    if (!track) return;
    this.dispatch({ type: 'rating/set', trackId: track.id, rating: 'like' });
    this.feedback(track, 'like', this.positionFor(track));
  }

  dislike(): void {
    const track = currentTrack(this.store.getState());
    if (!track) return;
    this.dispatch({ type: 'rating/set', trackId: track.id, rating: 'dislike' });
    this.feedback(track, 'dislike', this.positionFor(track));
    this.advance(track);
  }

  private positionFor(track: Track): number {
    return this.engine.trackId === track.id ? this.engine.position() : 0;
  }

  seek(ms: number): void {
    this.engine.seek(ms);
  }

  setVolume(volume: number): void {
    this.dispatch({ type: 'playback/volume', volume });
    this.engine.setVolume(volume);
    this.persist();
  }

  setMood(request: MoodRequest): void {
    const clean: MoodRequest = {};
    if (request.mood) clean.mood = request.mood;
    if (request.text !== undefined && request.text.trim()) clean.text = request.text.trim().slice(0, 200);
    if (request.energy !== undefined) clean.energy = round2(request.energy);
    if (request.valence !== undefined) clean.valence = round2(request.valence);
    this.dispatch({ type: 'mood/requested', request: clean });
    const socket = this.socket;
    if (socket && socket.state.status !== 'failed') {
      socket.sendDurable({ type: 'mood', ...clean });
      return;
    }
    this.api
      .setMood(clean)
      .then((r) => this.dispatch({ type: 'mood/set', mood: r.mood }))
      .catch((err: Error) => {
        this.dispatch({ type: 'mood/failed' });
        this.toast(err.message, 'error');
      });
  }

  setFilters(filters: Partial<Filters>): void {
    this.dispatch({ type: 'filters/set', filters });
    this.persist();
  }

  async quickMix(): Promise<void> {
    const s = this.store.getState();
    this.dispatch({ type: 'mix/loading' });
    const seeds = [
      ...(s.nowPlaying ? [s.nowPlaying.id] : []),
      ...Object.entries(s.ratings)
        .filter(([, r]) => r === 'like')
        .map(([id]) => Number(id)),
    ];
    try {
      const r = await this.api.quickmix(
        {
          mood: s.mood?.preset ?? undefined,
          text: s.mood?.preset ? undefined : (s.mood?.text ?? undefined),
          seed_track_ids: seeds.length ? [...new Set(seeds)].slice(0, 5) : undefined,
          size: 20,
        },
        s.filters,
      );
      this.dispatch({ type: 'mix/loaded', id: r.mix_id, tracks: r.tracks ?? [], cached: !!r.cached });
    } catch (err) {
      this.dispatch({ type: 'mix/failed', error: (err as Error).message });
    }
  }

  playMix(index = 0): void {
    const s = this.store.getState();
    if (!s.mix.tracks[index]) return;
    this.engine.unlock();
    this.dispatch({ type: 'source/set', source: { kind: 'mix', index } });
    this.dispatch({ type: 'playback/wantsToPlay', value: true });
  }

  backToQueue(): void {
    this.dispatch({ type: 'source/set', source: { kind: 'queue' } });
  }

  async loadRecommendations(): Promise<void> {
    const s = this.store.getState();
    this.dispatch({ type: 'reco/loading' });
    try {
      const r = await this.api.recommendations(
        {
          limit: 20,
          mood: s.mood?.preset ?? undefined,
          text: s.mood?.preset ? undefined : (s.mood?.text ?? undefined),
        },
        s.filters,
      );
      this.dispatch({ type: 'reco/loaded', tracks: r.tracks ?? [], explanation: r.explanation ?? null });
    } catch (err) {
      this.dispatch({ type: 'reco/failed', error: (err as Error).message });
    }
  }

  setTheme(theme: Theme): void {
    this.dispatch({ type: 'theme/set', theme });
    this.applyTheme(theme);
    this.persist();
  }

  toast(message: string, kind: 'info' | 'error' = 'info'): void {
    const id = ++toastSeq;
    this.dispatch({ type: 'toast/add', toast: { id, kind, message } });
    setTimeout(() => this.dispatch({ type: 'toast/dismiss', id }), kind === 'error' ? 8000 : 5000);
  }

  dismissToast(id: number): void {
    this.dispatch({ type: 'toast/dismiss', id });
  }

  // --- helpers -----------------------------------------------------------------

  private persist(): void {
    const s = this.store.getState();
    savePrefs({ theme: s.theme, volume: s.playback.volume, filters: s.filters }, this.storage);
  }

  private applyTheme(theme: Theme): void {
    const root = document.documentElement;
    if (theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = theme;
  }

  private installMediaSession(): void {
    const ms = typeof navigator !== 'undefined' ? navigator.mediaSession : undefined;
    if (!ms) return;
    const handlers: Array<[MediaSessionAction, MediaSessionActionHandler]> = [
      ['play', () => this.play()],
      ['pause', () => this.pause()],
      ['nexttrack', () => this.next()],
      ['seekto', (d) => d.seekTime !== undefined && this.seek(d.seekTime * 1000)],
    ];
    for (const [action, handler] of handlers) {
      try {
        ms.setActionHandler(action, handler);
      } catch {
        /* unsupported action */
      }
    }
  }

  private updateMediaSession(track: Track | null, status: string): void {
    const ms = typeof navigator !== 'undefined' ? navigator.mediaSession : undefined;
    if (!ms) return;
    ms.playbackState = status === 'playing' ? 'playing' : track ? 'paused' : 'none';
    const id = track?.id ?? null;
    if (id === this.lastMetaTrackId) return;
    this.lastMetaTrackId = id;
    if (!track || typeof MediaMetadata === 'undefined') {
      ms.metadata = null;
      return;
    }
    ms.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artists.join(', '),
      album: track.album ?? '',
      artwork: [{ src: coverDataUrl(track, 512), sizes: '512x512', type: 'image/svg+xml' }],
    });
  }

  dispose(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
    this.closeSocket();
    this.engine.stop();
    setUnauthorizedHandler(null);
  }
}

function round2(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 100) / 100;
}

export const ControllerContext = createContext<Controller | null>(null);

export function useController(): Controller {
  const c = useContext(ControllerContext);
  if (!c) throw new Error('ControllerContext is missing');
  return c;
}
