// What plays: the engine kept on the current track (and stopped when there is none, or when
// it cannot play here), and the transport: play, pause, next, previous, play now, seek,
// volume. In a group the group decides (groups/groupController.ts): the next track, the
// position, a track picked to play now goes into the group's queue.
import { PlaybackEngine, type PlayerFactory } from '../audio/engine';
import type { GroupController } from '../groups/groupController';
import { isPlayable } from '../lib/tracks';
import type { Track } from '../types';
import type { Connection } from './connection';
import type { Host } from './host';
import type { Navigator } from './navigation';
import type { Preferences } from './preferences';
import { currentTrack, type AppState } from './state';

export interface PlaybackHost extends Host {
  readonly nav: Navigator;
  readonly groups: GroupController;
  readonly connection: Connection;
  readonly preferences: Preferences;
}

/** The engine, its events wired to the store, navigation, the group and feedback. */
export function createEngine(host: Omit<PlaybackHost, 'engine'>, playerFactory?: PlayerFactory): PlaybackEngine {
  const { dispatch } = host.store;
  return new PlaybackEngine(
    {
      onLoading: (track, kind, durationMs) => dispatch({ type: 'playback/loading', trackId: track.id, mediaKind: kind, durationMs }),
      onStatus: (status, message) => dispatch({ type: 'playback/status', status, message }),
      onProgress: (positionMs, durationMs) => dispatch({ type: 'playback/progress', positionMs, durationMs }),
      onStarted: (track) => {
        host.nav.trackStarted();
        host.feedback(track, 'play', 0);
      },
      onEnded: (track, positionMs) => {
        if (host.groups.active) {
          host.groups.trackEnded(track); // the group moves on once, for everyone
          return;
        }
        host.feedback(track, 'complete', positionMs);
        host.nav.advance(track);
      },
      onFailed: (track, message) => {
        // In a group the others still hear it: no moving on from here.
        if (host.groups.active) host.toast(`“${track.title}”: ${message}`, 'error');
        else host.nav.trackFailed(track, message);
      },
    },
    playerFactory,
  );
}

export class PlaybackController {
  private nextAskedForSeq: number | null | undefined = undefined;

  constructor(private readonly host: PlaybackHost) {}

  private get engine(): PlaybackEngine {
    return this.host.engine;
  }

  /** After every state change (logged in): put the engine on the track the state says. */
  sync(s: AppState): void {
    const { groups, nav, connection } = this.host;
    const track = currentTrack(s);
    if (track && !isPlayable(track) && groups.active) {
      // The group's track cannot play here: stay quiet (the others hear it; NowPlaying says so).
      this.stopEngine();
    } else if (track && !isPlayable(track)) {
      // Never handed to the engine (no silence for its length): passed over while playing.
      this.stopEngine();
      nav.passOver(this.host.store.getState(), track);
    } else if (track?.id !== this.engine.trackId) {
      if (track && s.playback.wantsToPlay) {
        void this.engine.load(track, groups.allowsAutoplay(track.id), groups.startAt(track.id));
      } else this.stopEngine();
    }
    if (
      !track &&
      s.source.kind === 'queue' &&
      !groups.active &&
      s.playback.wantsToPlay &&
      s.queue.length > 0 &&
      connection.isLive &&
      this.nextAskedForSeq !== s.queueSeq
    ) {
      this.nextAskedForSeq = s.queueSeq;
      connection.send({ type: 'next' });
    }
  }

  private stopEngine(): void {
    if (this.engine.trackId === null) return;
    this.engine.stop();
    this.host.store.dispatch({ type: 'playback/stopped' });
  }

  play(): void {
    this.engine.unlock();
    this.host.store.dispatch({ type: 'playback/wantsToPlay', value: true });
    const s = this.host.store.getState();
    const track = currentTrack(s);
    if (!track) {
      if (s.queue.length === 0) this.host.toast('Nothing to play yet: pick a mood to get a queue.');
      return;
    }
    if (!isPlayable(track)) return; // sync() passes over it
    if (this.host.groups.active) this.host.groups.play(); // at the shared position
    else if (this.engine.trackId === track.id) void this.engine.play();
    // else sync() (run by the dispatch above) has started loading it
  }

  pause(): void {
    if (this.host.groups.active && this.host.groups.pause()) return; // the group pauses, this page with it
    this.host.store.dispatch({ type: 'playback/wantsToPlay', value: false });
    this.engine.pause();
  }

  togglePlay(): void {
    const { wantsToPlay, status } = this.host.store.getState().playback;
    if (wantsToPlay && (this.engine.isPlaying || status === 'loading')) this.pause();
    else this.play();
  }

  /** Skip the current track (or ask the server for one when nothing is current). */
  next(): void {
    this.engine.unlock();
    if (this.host.groups.active) {
      this.host.groups.skip();
      return;
    }
    const s = this.host.store.getState();
    const track = currentTrack(s);
    if (track) {
      if (isPlayable(track)) this.host.feedback(track, 'skip', this.positionFor(track));
      else if (s.source.kind === 'queue') this.host.sendFrame({ type: 'next' }); // never heard: no skip feedback
      this.host.nav.advance(track);
      return;
    }
    if (s.source.kind === 'queue') {
      if (!this.host.connection.send({ type: 'next' })) this.host.toast('Offline: cannot ask for the next track right now.', 'error');
    }
  }

  /** Back to the track played before in this tab. */
  previous(): void {
    if (this.host.groups.active) {
      this.host.toast('Previous is not available while listening together.');
      return;
    }
    this.host.nav.previous();
  }

  /** Play a track from search, "more like this" or the queue now. */
  playNow(track: Track): void {
    if (this.host.groups.active) {
      this.host.groups.queueAdd(track); // in a group: it plays next, for everyone
      return;
    }
    this.host.nav.playNow(track);
  }

  seek(ms: number): void {
    if (this.host.groups.active) {
      this.host.groups.seek(ms);
      return;
    }
    this.engine.seek(ms);
  }

  setVolume(volume: number): void {
    this.host.store.dispatch({ type: 'playback/volume', volume });
    this.engine.setVolume(volume);
    this.host.preferences.save();
  }

  /** Where the engine is in `track` (0 when it is on another one). */
  positionFor(track: Track): number {
    return this.engine.trackId === track.id ? this.engine.position() : 0;
  }
}
