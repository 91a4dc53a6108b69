// The app's behaviour, composed: the one object components reach (through useController) and
// the Host the helper modules share. Each concern lives in its own module, and this file only
// wires them and forwards the listener's actions:
//   session.ts      login, register, logout, the session check
//   connection.ts   the socket and its outbox      frames.ts     what server frames mean
//   playback.ts     the engine and the transport    feedback.ts   plays, skips, likes, dislikes
//   mood.ts         mood changes and refusals        preferences.ts theme, volume, filters
//   toasts.ts       short messages                   mediaSession.ts the OS media controls
//   navigation.ts (nav), browse.ts, library.ts, libraries.ts, discover.ts (Quick Mix),
//   historyImport.ts, and groups/groupController.ts ("Listening together").
// Components call these methods; they never talk to the network.
import { createContext, useContext } from 'react';
import { api as defaultApi, setUnauthorizedHandler } from '../api/client';
import type { PlaybackEngine, PlayerFactory } from '../audio/engine';
import { preloadSynth } from '../audio/midiPlayer';
import { GroupController } from '../groups/groupController';
import { groupApi as defaultGroupApi, type GroupApi } from '../groups/groupApi';
import type { FeedbackAction, Filters, MoodRequest, Track, User } from '../types';
import type { ClientFrame } from '../ws/protocol';
import type { ReconnectingSocket, SocketOptions } from '../ws/socket';
import { BrowseController } from './browse';
import { Connection } from './connection';
import { DiscoverController } from './discover';
import { FeedbackController } from './feedback';
import { FrameRouter } from './frames';
import { HistoryImportController } from './historyImport';
import type { Host } from './host';
import { LibrariesController } from './libraries';
import { LibraryController } from './library';
import { MediaSessionBridge } from './mediaSession';
import { MoodController } from './mood';
import { Navigator } from './navigation';
import { createEngine, PlaybackController } from './playback';
import { Preferences } from './preferences';
import { safeStorage } from './prefs';
import { Session, SESSION_ENDED_MESSAGE } from './session';
import { currentTrack, type Theme } from './state';
import type { Store } from './store';
import { Toasts } from './toasts';

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

export class Controller implements Host {
  readonly api: typeof defaultApi;
  readonly engine: PlaybackEngine;
  readonly connection: Connection;
  readonly session: Session;
  readonly playback: PlaybackController;
  readonly ratings: FeedbackController;
  readonly mood: MoodController;
  readonly preferences: Preferences;
  readonly toasts: Toasts;
  readonly nav: Navigator;
  readonly browse: BrowseController;
  readonly library: LibraryController;
  readonly libraries: LibrariesController;
  readonly discover: DiscoverController;
  /** "Bring your history": the listening-history upload. */
  readonly historyImport: HistoryImportController;
  /** "Listening together": the group followed and its synced playback. */
  readonly groups: GroupController;
  private readonly frames: FrameRouter;
  private readonly mediaSession = new MediaSessionBridge();
  private unsubs: Array<() => void> = [];

  constructor(
    readonly store: Store,
    deps: ControllerDeps = {},
  ) {
    this.api = deps.api ?? defaultApi;
    const storage = deps.storage === undefined ? safeStorage() : deps.storage;
    this.toasts = new Toasts(store);
    this.preferences = new Preferences(store, storage);
    this.session = new Session(this, {
      onAuthenticated: (user) => this.started(user),
      onLoggedOut: () => this.stopped(),
    });
    this.frames = new FrameRouter(this);
    this.connection = new Connection(
      store,
      storage,
      {
        onFrame: (frame) => this.frames.handle(frame),
        onState: (state) => {
          if (state.status === 'live') this.groups.onLive();
          if (state.status === 'unauthorized') this.session.loggedOut(SESSION_ENDED_MESSAGE);
          if (state.status === 'failed') this.toast(state.message, 'error');
        },
        checkAuth: () => this.session.checkAuth(),
      },
      deps.createSocket,
      deps.wsUrl,
    );
    this.engine = deps.engine ?? createEngine(this, deps.playerFactory);
    this.playback = new PlaybackController(this);
    this.ratings = new FeedbackController(this);
    this.mood = new MoodController(this, this.connection);
    this.nav = new Navigator(this);
    this.browse = new BrowseController(this, deps.searchDebounceMs);
    this.library = new LibraryController(this, deps.catalogPollMs);
    this.libraries = new LibrariesController(this, deps.libraryPollMs, () => this.library.recheck());
    this.discover = new DiscoverController(this);
    this.historyImport = new HistoryImportController(this);
    this.groups = new GroupController(this, deps.groupApi ?? defaultGroupApi);
  }

  // --- start-up, and what starts and ends with a session ---------------------

  async boot(): Promise<void> {
    const prefs = this.preferences.restore();
    this.engine.setVolume(prefs.volume);
    setUnauthorizedHandler(() => this.session.loggedOut(SESSION_ENDED_MESSAGE));
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

  private started(user: User): void {
    void this.library.loadSettings();
    this.library.watchCatalog();
    this.connection.open(user);
    const idle = (globalThis as { requestIdleCallback?: (fn: () => void) => void }).requestIdleCallback;
    if (idle) idle(() => void preloadSynth().catch(() => undefined));
  }

  private stopped(): void {
    this.connection.close();
    this.engine.dispose();
    this.nav.reset();
    this.groups.reset();
    this.historyImport.reset();
    this.browse.dispose();
  }

  /** After every state change: the engine on the right track, the OS controls and navigation told. */
  private sync(): void {
    const s = this.store.getState();
    if (s.auth.status !== 'authenticated') return;
    this.playback.sync(s);
    const now = this.store.getState();
    this.mediaSession.update(currentTrack(now), now.playback.status);
    this.nav.observe(now);
  }

  checkSession(): Promise<void> {
    return this.session.check();
  }

  login(username: string, password: string): Promise<void> {
    return this.session.login(username, password);
  }

  register(username: string, password: string): Promise<void> {
    return this.session.register(username, password);
  }

  logout(): Promise<void> {
    return this.session.logout();
  }

  retryConnection(): void {
    this.connection.retryNow();
  }

  // --- Host: what the helper modules use ---------------------------------------

  sendFrame(frame: ClientFrame): boolean {
    return this.connection.send(frame);
  }

  feedback(track: Track, action: FeedbackAction, positionMs?: number): void {
    this.ratings.send(track, action, positionMs);
  }

  toast(message: string, kind: 'info' | 'error' = 'info'): void {
    this.toasts.show(message, kind);
  }

  positionFor(track: Track): number {
    return this.playback.positionFor(track);
  }

  // --- listener actions ----------------------------------------------------------

  play(): void {
    this.playback.play();
  }

  pause(): void {
    this.playback.pause();
  }

  togglePlay(): void {
    this.playback.togglePlay();
  }

  /** Skip the current track (or ask the server for one when nothing is current). */
  next(): void {
    this.playback.next();
  }

  /** Back to the track played before in this tab. */
  previous(): void {
    this.playback.previous();
  }

  /** Play a track from search, "more like this" or the queue now. */
  playNow(track: Track): void {
    this.playback.playNow(track);
  }

  seek(ms: number): void {
    this.playback.seek(ms);
  }

  setVolume(volume: number): void {
    this.playback.setVolume(volume);
  }

  /** Like the current track, or take the like back when it is liked already. */
  like(): void {
    this.ratings.like();
  }

  dislike(): void {
    this.ratings.dislike();
  }

  setMood(request: MoodRequest): void {
    this.mood.set(request);
  }

  clearMoodError(): void {
    this.mood.clearError();
  }

  setFilters(filters: Partial<Filters>): void {
    this.preferences.setFilters(filters);
  }

  setTheme(theme: Theme): void {
    this.preferences.setTheme(theme);
  }

  dismissToast(id: number): void {
    this.toasts.dismiss(id);
  }

  dispose(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
    this.connection.close();
    this.engine.dispose();
    this.nav.reset();
    this.groups.reset();
    this.browse.dispose();
    this.library.dispose();
    this.libraries.dispose();
    this.historyImport.dispose();
    setUnauthorizedHandler(null);
  }
}

export const ControllerContext = createContext<Controller | null>(null);

export function useController(): Controller {
  const c = useContext(ControllerContext);
  if (!c) throw new Error('ControllerContext is missing');
  return c;
}
