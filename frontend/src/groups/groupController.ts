// "Listening together" on the player side: create / join / leave a group over HTTP, follow it
// over /ws (group_join after every (re)connect), keep the server clock, and hold this page's
// player on the group's shared track at the group's position.
//
// Invariants:
// - While in a group, only queue frames carrying its `group_id` reach the store, and the
//   track the engine plays is the group's now playing; outside a group, group queue frames
//   (late ones, after leaving) are dropped.
// - Track changes come from the server only (playback + queue frames): in a group this page
//   never advances locally; its end of a track is an `ended` frame, its skip `next` (host or
//   guest controls) or `vote_skip`.
// - The player is steered towards targetPosition(latest playback frame, server clock now)
//   every tick (sync/playbackSync.ts decides how); a listener's own pause (wantsToPlay off)
//   only silences this page.
import { ApiError } from '../api/client';
import type { Host } from '../store/host';
import { currentTrack } from '../store/state';
import { ServerClock, clientNow } from '../sync/clock';
import { correction, DEAD_BAND_MS, targetPosition } from '../sync/playbackSync';
import type { Track } from '../types';
import { newRef, type ClockFrame, type ErrorFrame, type GroupFrame, type PlaybackFrame, type QueueFrame } from '../ws/protocol';
import { groupApi as defaultGroupApi, type GroupApi } from './groupApi';
import { CODE_ALPHABET, normalizeCode, sameUser, type CreateGroupRequest, type Group, type LeftStatus, type Playback } from './types';

const LEFT_NOTICE: Record<LeftStatus, string> = {
  left: 'You left the group: back to your own queue.',
  removed: 'The host removed you from the group: back to your own queue.',
  ended: 'The group has ended: back to your own queue.',
};

/** After a refused play() (autoplay blocked), wait this long before trying again by itself. */
const PLAY_RETRY_MS = 2000;

export class GroupController {
  readonly clock: ServerClock;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private starting = false;
  private lastPlayTry = -Infinity;
  private checkedMine = false;
  private joining = new Map<string, Promise<boolean>>();
  /** Refs of frames sent here, so that their errors are answered here. */
  private refs = new Map<string, string>();

  constructor(
    private readonly host: Host,
    private readonly api: GroupApi = defaultGroupApi,
    private readonly tickMs = 250,
  ) {
    this.clock = new ServerClock({ send: (ms) => this.host.sendFrame({ type: 'clock', client_ms: ms }) });
  }

  private get store() {
    return this.host.store;
  }

  get group(): Group | null {
    return this.store.getState().group.group;
  }

  get active(): boolean {
    return this.group !== null;
  }

  get isHost(): boolean {
    const g = this.group;
    return !!g && sameUser(g.host, this.store.getState().auth.user);
  }

  /** Whether this listener steers the shared playback (pause, seek, skip at once). */
  get canControl(): boolean {
    const g = this.group;
    return !!g && (this.isHost || g.guest_controls);
  }

  // --- joining and leaving ----------------------------------------------------

  async create(req: CreateGroupRequest): Promise<boolean> {
    this.store.dispatch({ type: 'group/busy', busy: true });
    try {
      const { group } = await this.api.create(req);
      this.enter(group);
      return true;
    } catch (err) {
      this.store.dispatch({ type: 'group/error', error: explain(err) });
      return false;
    }
  }

  /** Join by a typed code or one from a link; resolves with whether it worked. */
  joinByCode(raw: string): Promise<boolean> {
    const code = normalizeCode(raw);
    if (!CODE_ALPHABET.test(code)) {
      this.store.dispatch({ type: 'group/error', error: 'A group code is 6 letters and digits, like K7MQ2X.' });
      return Promise.resolve(false);
    }
    if (this.group?.code === code) return Promise.resolve(true);
    const running = this.joining.get(code);
    if (running) return running; // a double mount of the join page, a double click
    const p = (async () => {
      this.store.dispatch({ type: 'group/busy', busy: true });
      try {
        const { group } = await this.api.join(code);
        this.enter(group);
        return true;
      } catch (err) {
        this.store.dispatch({ type: 'group/error', error: explain(err) });
        return false;
      } finally {
        this.joining.delete(code);
      }
    })();
    this.joining.set(code, p);
    return p;
  }

  async leave(): Promise<void> {
    const g = this.group;
    if (!g) return;
    this.store.dispatch({ type: 'group/busy', busy: true });
    try {
      await this.api.leave(g.id);
    } catch (err) {
      if (!(err instanceof ApiError && (err.status === 404 || err.code === 'not_in_group'))) {
        this.store.dispatch({ type: 'group/error', error: explain(err) });
        return;
      }
    }
    this.host.sendFrame({ type: 'group_leave', ref: newRef() });
    this.left(LEFT_NOTICE.left);
  }

  /** Host: end the group for everyone. */
  async end(): Promise<void> {
    const g = this.group;
    if (!g) return;
    this.store.dispatch({ type: 'group/busy', busy: true });
    try {
      await this.api.end(g.id);
    } catch (err) {
      this.store.dispatch({ type: 'group/error', error: explain(err) });
      return;
    }
    this.host.sendFrame({ type: 'group_leave', ref: newRef() });
    this.left('You ended the group: back to your own queue.');
  }

  async setGuestControls(on: boolean): Promise<void> {
    await this.update(() => this.api.update(this.group!.id, { guest_controls: on }));
  }

  async rename(name: string): Promise<void> {
    await this.update(() => this.api.update(this.group!.id, { name }));
  }

  async makeHost(userId: number | string): Promise<void> {
    await this.update(() => this.api.makeHost(this.group!.id, userId));
  }

  async removeMember(userId: number | string): Promise<void> {
    const g = this.group;
    if (!g) return;
    try {
      await this.api.removeMember(g.id, userId);
      // The group frame that follows shows the new member list.
    } catch (err) {
      this.host.toast(explain(err), 'error');
    }
  }

  private async update(call: () => Promise<{ group: Group }>): Promise<void> {
    if (!this.group) return;
    try {
      const { group } = await call();
      if (this.group && String(this.group.id) === String(group.id)) this.store.dispatch({ type: 'group/set', group });
    } catch (err) {
      this.host.toast(explain(err), 'error');
    }
  }

  private enter(group: Group): void {
    this.store.dispatch({ type: 'group/set', group });
    this.store.dispatch({ type: 'group/busy', busy: false });
    // A Quick Mix plays locally: in a group the group's queue is what plays.
    if (this.store.getState().source.kind !== 'queue') this.store.dispatch({ type: 'source/set', source: { kind: 'queue' } });
    this.follow();
    this.startTicker();
  }

  /** Tell the server that this connection follows the group (again), and sample the clock. */
  private follow(): void {
    const g = this.group;
    if (!g) return;
    this.send({ type: 'group_join', group_id: g.id, ref: newRef() });
    this.clock.start();
  }

  private left(notice: string | null): void {
    this.clock.reset();
    this.stopTicker();
    this.host.engine.setRate(1);
    this.store.dispatch({ type: 'group/left', notice });
  }

  /** The socket is live (first connect or a reconnect). */
  onLive(): void {
    if (this.group) {
      this.follow();
      return;
    }
    if (this.checkedMine) return;
    this.checkedMine = true;
    this.api
      .mine()
      .then(({ group }) => {
        if (group && !group.ended && !this.group) this.enter(group);
      })
      .catch(() => undefined); // no group, or an older server without the call
  }

  /** Logged out or closed: forget the group locally. */
  reset(): void {
    this.clock.reset();
    this.stopTicker();
    this.checkedMine = false;
    this.refs.clear();
  }

  // --- server frames ------------------------------------------------------------

  handleGroupFrame(frame: GroupFrame): void {
    const mine = this.group;
    if (frame.status) {
      if (mine && String(mine.id) === String(frame.group.id)) {
        this.left(LEFT_NOTICE[frame.status] ?? LEFT_NOTICE.left);
        if (frame.status !== 'left') this.host.toast(LEFT_NOTICE[frame.status]);
      }
      return;
    }
    if (!mine || String(mine.id) !== String(frame.group.id)) return; // a group left meanwhile
    const wasHost = this.isHost;
    this.store.dispatch({ type: 'group/set', group: frame.group });
    if (frame.group.ended) {
      this.left(LEFT_NOTICE.ended);
      return;
    }
    if (!wasHost && this.isHost) this.host.toast('You are now the host of the group.');
    this.align();
  }

  handlePlaybackFrame(frame: PlaybackFrame): void {
    if (!this.group) return;
    const playback: Playback = {
      track_id: frame.track_id,
      state: frame.state,
      position_ms: frame.position_ms,
      server_ms: frame.server_ms,
    };
    this.store.dispatch({ type: 'group/playback', playback });
    this.align();
  }

  handleClockFrame(frame: ClockFrame): void {
    this.clock.receive(frame.client_ms, frame.server_ms);
  }

  /** Whether a queue frame is for what this page follows now (the group's, or the own queue). */
  acceptsQueue(frame: QueueFrame): boolean {
    const gid = frame.group_id;
    const g = this.group;
    if (g) return gid !== undefined && gid !== null && String(gid) === String(g.id);
    return gid === undefined || gid === null;
  }

  /** An error frame: true when it answered a frame sent from here (or is about the group). */
  handleError(frame: ErrorFrame): boolean {
    const ref = frame.ref === undefined ? null : String(frame.ref);
    const kind = ref !== null ? this.refs.get(ref) : undefined;
    if (ref !== null) this.refs.delete(ref);
    if (frame.code === 'not_in_group' || frame.code === 'unknown_group') {
      if (this.group) {
        this.left('You are no longer in the group: back to your own queue.');
        this.host.toast('You are no longer in the group.');
      }
      return true;
    }
    if (kind === undefined) return false;
    if (frame.code === 'forbidden') this.host.toast('Only the host can do that while guest controls are off.', 'error');
    else this.host.toast(frame.message || frame.code, 'error');
    return true;
  }

  private send(frame: Parameters<Host['sendFrame']>[0] & { ref?: string }): boolean {
    const ok = this.host.sendFrame(frame);
    if (ok && frame.ref) {
      this.refs.set(frame.ref, frame.type);
      if (this.refs.size > 100) this.refs.delete(this.refs.keys().next().value as string);
    }
    return ok;
  }

  // --- listener actions in a group ---------------------------------------------------

  /** Skip: at once for the host (or anyone with guest controls), else a vote. */
  skip(): void {
    if (this.canControl) {
      if (!this.send({ type: 'next', ref: newRef() })) this.host.toast('Offline: cannot skip right now.', 'error');
    } else this.voteSkip();
  }

  voteSkip(): void {
    if (!this.send({ type: 'vote_skip', ref: newRef() })) this.host.toast('Offline: cannot vote right now.', 'error');
  }

  /** "Play next": put a track next in the group's queue. */
  queueAdd(track: Track): void {
    if (!this.send({ type: 'queue_add', track_id: track.id, ref: newRef() })) {
      this.host.toast('Offline: cannot add the track right now.', 'error');
      return;
    }
    this.host.toast(`“${track.title}” plays next.`);
  }

  /** This page reached the end of the shared track: the group advances once. */
  trackEnded(track: Track): void {
    this.send({ type: 'ended', track_id: track.id, ref: newRef() });
  }

  /** Play: un-silence this page; with controls, resume the group when it is paused. */
  play(): void {
    const pb = this.store.getState().group.playback;
    if (pb?.state === 'paused') {
      if (this.canControl) this.setShared('playing', pb.position_ms);
      else this.host.toast('The host paused the group; it plays again when the host resumes.');
    }
    this.lastPlayTry = -Infinity;
    this.align();
  }

  /** Pause: with controls, pause the group for everyone; else only this page goes quiet. */
  pause(): boolean {
    if (!this.canControl) return false;
    const engine = this.host.engine;
    this.setShared('paused', engine.isLoaded ? engine.position() : (this.store.getState().group.playback?.position_ms ?? 0));
    return true;
  }

  /** Seek the shared track (controls only). */
  seek(ms: number): void {
    if (!this.canControl) {
      this.host.toast('Only the host can move the shared track while guest controls are off.');
      return;
    }
    const state = this.store.getState().group.playback?.state ?? 'playing';
    this.host.engine.seek(ms);
    this.setShared(state, ms);
  }

  /** Send a playback change and apply it here at once (the server's echo confirms it). */
  private setShared(state: 'playing' | 'paused', positionMs: number): void {
    const pos = Math.max(0, Math.round(positionMs));
    const trackId = this.store.getState().group.playback?.track_id ?? currentTrack(this.store.getState())?.id ?? null;
    if (!this.send({ type: 'playback', state, position_ms: pos, ref: newRef() })) {
      this.host.toast('Offline: cannot change the shared playback right now.', 'error');
      return;
    }
    this.store.dispatch({
      type: 'group/playback',
      playback: { track_id: trackId, state, position_ms: pos, server_ms: this.clock.serverNow() },
    });
    this.align();
  }

  // --- keeping this player on the shared position ------------------------------------

  /** Where a freshly loaded `trackId` starts: the group's position now (null: from the start). */
  startAt(trackId: number): (() => number | null) | undefined {
    if (!this.group) return undefined;
    return () => {
      const pb = this.store.getState().group.playback;
      if (!pb || pb.track_id !== trackId) return null;
      return targetPosition(pb, this.clock.serverNow());
    };
  }

  /** Whether a freshly loaded track should start playing (not while the group is paused on it). */
  allowsAutoplay(trackId: number): boolean {
    const pb = this.store.getState().group.playback;
    return !this.group || !pb || pb.track_id !== trackId || pb.state === 'playing';
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.align(), this.tickMs);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  /** Steer the player towards the shared position (run on every frame and tick). */
  align(): void {
    const s = this.store.getState();
    const pb = s.group.playback;
    const engine = this.host.engine;
    if (!s.group.group || !pb || pb.track_id === null) return;
    if (engine.trackId !== pb.track_id || !engine.isLoaded) return;
    const duration = engine.duration();
    const target = targetPosition(pb, this.clock.serverNow(), duration);
    if (pb.state === 'paused' || !s.playback.wantsToPlay) {
      engine.setRate(1);
      if (engine.isPlaying) engine.pause();
      if (pb.state === 'paused' && Math.abs(engine.position() - target) > DEAD_BAND_MS) engine.seek(target);
      return;
    }
    if (!engine.isPlaying) {
      const now = clientNow();
      if (this.starting || s.playback.status === 'error' || now - this.lastPlayTry < PLAY_RETRY_MS) return;
      if (duration > 0 && target >= duration) return; // over here; the `ended` frame moves the group on
      this.lastPlayTry = now;
      this.starting = true;
      engine.seek(target);
      void engine.play().finally(() => {
        this.starting = false;
        if (engine.isPlaying) this.align();
      });
      return;
    }
    const fix = correction({ positionMs: engine.position(), targetMs: target, canNudgeRate: engine.playerKind === 'audio' });
    if (fix.kind === 'seek') {
      engine.setRate(1);
      engine.seek(fix.toMs);
    } else engine.setRate(fix.kind === 'rate' ? fix.rate : 1);
  }
}

function explain(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'unknown_group':
        return 'No group has that code (or it has ended).';
      case 'group_full':
        return 'That group is full.';
      case 'forbidden':
        return 'Only the host can do that.';
      default:
        return err.message || 'Something went wrong.';
    }
  }
  return 'Something went wrong. Please try again.';
}
