// Who is listening: the session check at start-up, login, register and logout, and the end of
// a session the server reports (a 401 from any call, or the socket refused). What starts with
// a session and what ends with it (the socket, the engine, ...) is the hooks' job.
import { ApiError } from '../api/client';
import { navigate } from '../lib/router';
import type { Mood, User } from '../types';
import type { Host } from './host';

export const SESSION_ENDED_MESSAGE = 'Your session has ended. Please log in again.';

export interface SessionHooks {
  /** Logged in (or found logged in): start what a listener needs. */
  onAuthenticated(user: User): void;
  /** Logged out: stop it all, before the store forgets the listener. */
  onLoggedOut(): void;
}

export class Session {
  constructor(
    private readonly host: Host,
    private readonly hooks: SessionHooks,
  ) {}

  async check(): Promise<void> {
    try {
      const me = await this.host.api.me();
      this.authenticated(me.user, me.mood);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.host.store.dispatch({ type: 'auth/loggedOut' });
      else this.host.store.dispatch({ type: 'auth/unreachable' });
    }
  }

  async login(username: string, password: string): Promise<void> {
    const { user } = await this.host.api.login(username, password);
    await this.afterAuth(user);
  }

  async register(username: string, password: string): Promise<void> {
    const { user } = await this.host.api.register(username, password);
    await this.afterAuth(user);
  }

  async logout(): Promise<void> {
    try {
      await this.host.api.logout();
    } catch {
      /* the session is gone locally either way */
    }
    this.loggedOut(null);
  }

  /** The session is over (said in `message`, if anything): back to the login page. */
  loggedOut(message: string | null): void {
    if (this.host.store.getState().auth.status !== 'authenticated') return;
    this.hooks.onLoggedOut();
    this.host.store.dispatch({ type: 'auth/loggedOut' });
    if (message) this.host.toast(message, 'error');
    navigate('/login', true);
  }

  /** For the socket: does the server still know this session? */
  async checkAuth(): Promise<'ok' | 'unauthorized' | 'unknown'> {
    try {
      await this.host.api.me();
      return 'ok';
    } catch (err) {
      return err instanceof ApiError && err.status === 401 ? 'unauthorized' : 'unknown';
    }
  }

  private async afterAuth(user: User): Promise<void> {
    let mood: Mood | null = null;
    try {
      mood = (await this.host.api.me()).mood;
    } catch {
      /* the queue frame brings the mood too */
    }
    this.authenticated(user, mood);
    if (window.location.pathname === '/login') navigate('/', true);
  }

  private authenticated(user: User, mood: Mood | null): void {
    const { dispatch } = this.host.store;
    dispatch({ type: 'auth/loggedIn', user, mood });
    this.host.api
      .moods()
      .then((r) => dispatch({ type: 'moods/loaded', moods: r.moods ?? [] }))
      .catch(() => this.host.toast('Could not load the mood presets.', 'error'));
    this.hooks.onAuthenticated(user);
  }
}
