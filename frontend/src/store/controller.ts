// The app's behaviour: wires the HTTP client, the socket, the audio engine and the
// store together. Components call these methods; they never talk to the network.
// Track navigation (play now, previous, prefetch), search, the catalog/settings and the
// connected music libraries live in their own modules (navigation.ts, browse.ts, library.ts,
// libraries.ts), reached through `nav`, `browse`, `library` and `libraries`.
import { createContext, useContext } from 'react';
import { api as defaultApi, ApiError, setUnauthorizedHandler } from '../api/client';
import { PlaybackEngine, type PlayerFactory } from '../audio/engine';
import { preloadSynth } from '../audio/midiPlayer';
import { GroupController } from '../groups/groupController';
import { groupApi as defaultGroupApi, type GroupApi } from '../groups/groupApi';
import { loadPrefs, safeStorage, savePrefs } from '../lib/prefs';
import { navigate } from '../lib/router';
import { isPlayable } from '../lib/tracks';
import type { FeedbackAction, Filters, Mood, MoodRequest, Track, User } from '../types';
import { Outbox } from '../ws/outbox';
import type { ClientFrame, ErrorFrame, ServerFrame } from '../ws/protocol';
import { ReconnectingSocket, wsUrl, type SocketOptions } from '../ws/socket';
import { BrowseController } from './browse';
import { DiscoverController } from './discover';
import type { Host } from './host';
import { LibrariesController } from './libraries';
import { LibraryController } from './library';
import { MediaSessionBridge } from './mediaSession';
import { Navigator } from './navigation';
import { currentTrack, moodMatches, ratingOf, type Theme } from './state';
import type { Store } from './store';

export interface ControllerDeps {
  api?: typeof defaultApi;
  /** The "Listening together" HTTP calls (tests pass fakes). */
  groupApi?: GroupApi;
  storage?: Storage | null;
  createSocket?: (opts: SocketOptions) => ReconnectingSocket;
  engine?: PlaybackEngine;
  /** The engine's media players (tests pass fakes). */
  playerFactory?: PlayerFactory;
  wsUrl?: string;
  /** Search debounce (tests use 0). */
  searchDebounceMs?: number;
  /** Catalog status poll interval while it loads. */
  catalogPollMs?: number;
  /** Connected libraries poll interval while one syncs or is analysed. */
  libraryPollMs?: number;
}

/** Error codes that mean "this mood change was refused" (shown under the mood box). */
const MOOD_ERROR_CODES = new Set(['unknown_mood', 'unknown_mood_words']);

let toastSeq = 0;

export class Controller implements Host {
  readonly api: typeof defaultApi;
  readonly nav: Navigator;
  readonly browse: BrowseController;
  readonly library: LibraryController;
  readonly libraries: LibrariesController;
  readonly discover: DiscoverController;
  /** "Listening together": the group followed and its synced playback. */
  readonly groups: GroupController;
  private readonly mediaSession = new MediaSessionBridge();
  private readonly storage: Storage | null;
  private readonly createSocket: (opts: SocketOptions) => ReconnectingSocket;
  readonly engine: PlaybackEngine;
  private socket: ReconnectingSocket | null = null;
  private outbox: Outbox | null = null;
  private outboxUnsub: (() => void) | null = null;
  private unsubs: Array<() => void> = [];
  private nextAskedForSeq: number | null | undefined = undefined;

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
        onStarted: (track) => {
          this.nav.trackStarted();
          this.feedback(track, 'play', 0);
        },
        onEnded: (track, positionMs) => this.handleEnded(track, positionMs),
        onFailed: (track, message) => {
          // In a group the others still hear it: no moving on from here.
          if (this.groups.active) this.toast(`“${track.title}”: ${message}`, 'error');
          else this.nav.trackFailed(track, message);
        },
      }, deps.playerFactory);
    this.nav = new Navigator(this);
    this.browse = new BrowseController(this, deps.searchDebounceMs);
    this.library = new LibraryController(this, deps.catalogPollMs);
    this.libraries = new LibrariesController(this, deps.libraryPollMs, () => this.library.recheck());
    this.discover = new DiscoverController(this);
    this.groups = new GroupController(this, deps.groupApi ?? defaultGroupApi);
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
    this.mediaSession.install({
      play: () => this.play(),
      pause: () => this.pause(),
      next: () => this.next(),
      previous: () => this.previous(),
      seek: (ms) => this.seek(ms),
    });
    this.library.watchCatalog();
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
    void this.library.loadSettings();
    this.library.watchCatalog();
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
        if (state.status === 'live') this.groups.onLive();
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
    this.engine.dispose();
    this.nav.reset();
    this.groups.reset();
    this.browse.dispose();
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
        if (!this.groups.acceptsQueue(frame)) break;
        this.dispatch({ type: 'ws/queue', frame });
        const mood = frame.mood;
        if (mood && this.outbox) {
          // The mood echo proves the change is stored even if its ack went missing.
          for (const e of this.outbox.pending()) {
            if (e.frame.type === 'mood' && moodMatches(e.frame, mood)) this.outbox.ack(e.ref);
          }
        }
        // Nothing to play: maybe the catalog is (re)loading; look at its state again.
        if (!frame.now_playing && frame.tracks.length === 0) this.library.recheck();
        break;
      }
      case 'ack':
        this.nav.handleAck(frame.ref);
        break;
      case 'error':
        this.handleError(frame);
        break;
      case 'group':
        this.groups.handleGroupFrame(frame);
        break;
      case 'playback':
        this.groups.handlePlaybackFrame(frame);
        break;
      case 'clock':
        this.groups.handleClockFrame(frame);
        break;
      default:
        break;
    }
  }

  private handleError(frame: ErrorFrame): void {
    if (this.nav.handleError(frame)) return;
    if (this.groups.handleError(frame)) return;
    const ref = frame.ref === undefined ? null : String(frame.ref);
    const refused = ref !== null ? this.outbox?.pending().find((e) => e.ref === ref) : undefined;
    // The server refused this frame for good: resending it after a reconnect would not help.
    if (refused && frame.code !== 'unavailable') this.outbox?.ack(refused.ref);
    const aboutMood = refused ? refused.frame.type === 'mood' : MOOD_ERROR_CODES.has(frame.code);
    if (aboutMood) {
      this.dispatch({ type: 'mood/failed', message: frame.message || 'That mood was not understood.' });
      return;
    }
    this.toast(frame.message || frame.code, 'error');
  }

  // --- keeping the audio engine on the right track ---------------------------

  private sync(): void {
    const s = this.store.getState();
    if (s.auth.status !== 'authenticated') return;
    const track = currentTrack(s);
    if (track && !isPlayable(track) && this.groups.active) {
      // The group's track cannot play here: stay quiet (the others hear it; NowPlaying says so).
      if (this.engine.trackId !== null) {
        this.engine.stop();
        this.dispatch({ type: 'playback/stopped' });
      }
    } else if (track && !isPlayable(track)) {
      // Never handed to the engine (no silence for its length): passed over while playing.
      if (this.engine.trackId !== null) {
        this.engine.stop();
        this.dispatch({ type: 'playback/stopped' });
      }
      this.nav.passOver(this.store.getState(), track);
    } else if (track?.id !== this.engine.trackId) {
      if (track && s.playback.wantsToPlay) {
        void this.engine.load(track, this.groups.allowsAutoplay(track.id), this.groups.startAt(track.id));
      }
      else if (this.engine.trackId !== null) {
        this.engine.stop();
        this.dispatch({ type: 'playback/stopped' });
      }
    }
    if (
      !track &&
      s.source.kind === 'queue' &&
      !this.groups.active &&
      s.playback.wantsToPlay &&
      s.queue.length > 0 &&
      this.socket?.isLive &&
      this.nextAskedForSeq !== s.queueSeq
    ) {
      this.nextAskedForSeq = s.queueSeq;
      this.socket.send({ type: 'next' });
    }
    const now = this.store.getState();
    this.mediaSession.update(currentTrack(now), now.playback.status);
    this.nav.observe(now);
  }

  private handleEnded(track: Track, positionMs: number): void {
    if (this.groups.active) {
      this.groups.trackEnded(track); // the group moves on once, for everyone
      return;
    }
    this.feedback(track, 'complete', positionMs);
    this.nav.advance(track);
  }

  // --- listener actions ------------------------------------------------------

  sendFrame(frame: ClientFrame): boolean {
    return this.socket?.send(frame) ?? false;
  }

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
    if (!isPlayable(track)) return; // sync() passes over it
    if (this.groups.active) this.groups.play(); // at the shared position
    else if (this.engine.trackId === track.id) void this.engine.play();
    // else sync() (run by the dispatch above) has started loading it
  }

  pause(): void {
    if (this.groups.active && this.groups.pause()) return; // the group pauses, this page with it
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
    if (this.groups.active) {
      this.groups.skip();
      return;
    }
    const s = this.store.getState();
    const track = currentTrack(s);
    if (track) {
      if (isPlayable(track)) this.feedback(track, 'skip', this.positionFor(track));
      else if (s.source.kind === 'queue') this.sendFrame({ type: 'next' }); // never heard: no skip feedback
      this.nav.advance(track);
      return;
    }
    if (s.source.kind === 'queue') {
      if (!this.socket?.send({ type: 'next' })) this.toast('Offline: cannot ask for the next track right now.', 'error');
    }
  }

  /** Back to the track played before in this tab. */
  previous(): void {
    if (this.groups.active) {
      this.toast('Previous is not available while listening together.');
      return;
    }
    this.nav.previous();
  }

  /** Play a track from search, "more like this" or the queue now. */
  playNow(track: Track): void {
    if (this.groups.active) {
      this.groups.queueAdd(track); // in a group: it plays next, for everyone
      return;
    }
    this.nav.playNow(track);
  }

  /** Like the current track, or take the like back when it is liked already. */
  like(): void {
    const s = this.store.getState();
    const track = currentTrack(s);
    if (!track) return;
    if (ratingOf(s, track) === 'like') {
      this.dispatch({ type: 'rating/clear', trackId: track.id });
      this.feedback(track, 'unlike', this.positionFor(track));
      return;
    }
    this.dispatch({ type: 'rating/set', trackId: track.id, rating: 'like' });
    this.feedback(track, 'like', this.positionFor(track));
  }

  dislike(): void {
    const track = currentTrack(this.store.getState());
    if (!track) return;
    this.dispatch({ type: 'rating/set', trackId: track.id, rating: 'dislike' });
    this.feedback(track, 'dislike', this.positionFor(track));
    if (!this.groups.active) this.nav.advance(track); // a group moves on by the server's word only
  }

  private positionFor(track: Track): number {
    return this.engine.trackId === track.id ? this.engine.position() : 0;
  }

  seek(ms: number): void {
    if (this.groups.active) {
      this.groups.seek(ms);
      return;
    }
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
        if (err instanceof ApiError && (err.status === 422 || MOOD_ERROR_CODES.has(err.code))) {
          this.dispatch({ type: 'mood/failed', message: err.message });
        } else {
          this.dispatch({ type: 'mood/failed' });
          this.toast(err.message, 'error');
        }
      });
  }

  clearMoodError(): void {
    this.dispatch({ type: 'mood/clearError' });
  }

  setFilters(filters: Partial<Filters>): void {
    this.dispatch({ type: 'filters/set', filters });
    this.persist();
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

  dispose(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
    this.closeSocket();
    this.engine.dispose();
    this.nav.reset();
    this.groups.reset();
    this.browse.dispose();
    this.library.dispose();
    this.libraries.dispose();
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
