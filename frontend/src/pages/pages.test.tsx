import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import { ApiError } from '../api/client';
import { makeTrack } from '../test/fakes';
import { renderWithApp } from '../test/render';
import { HistoryPage } from './HistoryPage';
import { LoginPage } from './LoginPage';

describe('LoginPage', () => {
  it('shows the server message for each auth error', async () => {
    const user = userEvent.setup();
    const { controller } = renderWithApp(<LoginPage />, { auth: { status: 'anonymous', user: null } });
    const login = vi
      .spyOn(controller, 'login')
      .mockRejectedValueOnce(new ApiError(401, 'invalid_credentials', 'Wrong username or password.'))
      .mockRejectedValueOnce(new ApiError(429, 'rate_limited', 'Too many failed logins. Try again in 30 s.', 30));
    await user.click(screen.getByTestId('auth-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Enter a username and a password.');
    await user.type(screen.getByLabelText('Username'), 'ann');
    await user.type(screen.getByLabelText('Password'), 'secret');
    await user.click(screen.getByTestId('auth-submit'));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong username or password.');
    await user.click(screen.getByTestId('auth-submit'));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Try again in 30 s.'));
    expect(login).toHaveBeenCalledWith('ann', 'secret');
  });

  it('registers in the other tab and explains a taken username', async () => {
    const user = userEvent.setup();
    const { controller } = renderWithApp(<LoginPage />, { auth: { status: 'anonymous', user: null } });
    const register = vi
      .spyOn(controller, 'register')
      .mockRejectedValue(new ApiError(409, 'username_taken', 'That username is taken.'));
    await user.click(screen.getByRole('tab', { name: 'Create account' }));
    await user.type(screen.getByLabelText('Username'), 'bob');
    await user.type(screen.getByLabelText('Password'), 'longpassword');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That username is taken.');
    expect(register).toHaveBeenCalledWith('bob', 'longpassword');
  });
});

describe('HistoryPage', () => {
  let observers: Array<{ cb: IntersectionObserverCallback; el: Element | null }> = [];
  beforeEach(() => {
    observers = [];
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        cb: IntersectionObserverCallback;
        el: Element | null = null;
        constructor(cb: IntersectionObserverCallback) {
          this.cb = cb;
          observers.push(this);
        }
        observe(el: Element) {
          this.el = el;
        }
        disconnect() {}
      },
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists events newest first and loads older pages as the end scrolls into view', async () => {
    const ev = (id: number, action: string) => ({ id, track: makeTrack(id), action, at: '2026-01-01T10:00:00Z', position_ms: 1000 });
    const history = vi
      .fn()
      .mockResolvedValueOnce({ events: [ev(10, 'skip'), ev(9, 'like')], next_before: 9 })
      .mockResolvedValueOnce({ events: [ev(8, 'complete')], next_before: null });
    renderWithApp(<HistoryPage />, {}, { history });
    await waitFor(() => expect(screen.getAllByTestId('history-item')).toHaveLength(2));
    expect(history).toHaveBeenNthCalledWith(1, 50, null);
    expect(screen.getByText('Skipped at 0:01')).toBeInTheDocument();
    expect(screen.getByText('Liked')).toBeInTheDocument();
    // The observer that knows the next cursor is made by an effect after that render; flush
    // effects first, or the latest observer can still be the first page's (it asks for null).
    await act(async () => {});
    const io = observers.at(-1)!;
    await act(async () => io.cb([{ isIntersecting: true, target: io.el! } as IntersectionObserverEntry], io as never));
    await waitFor(() => expect(screen.getAllByTestId('history-item')).toHaveLength(3));
    expect(history).toHaveBeenNthCalledWith(2, 50, 9);
    expect(screen.getAllByTestId('history-item').map((e) => e.dataset.action)).toEqual(['skip', 'like', 'complete']);
    expect(screen.getAllByTestId('history-label').map((e) => e.textContent)).toEqual(['Skipped at 0:01', 'Liked', 'Played through']);
    expect(screen.getByTestId('history-end')).toBeInTheDocument();
  });
});

describe('keyboard shortcuts', () => {
  it('space, n, l, d and / do what they say, but not while typing', async () => {
    const user = userEvent.setup();
    const { spies } = renderWithApp(<App />, {
      nowPlaying: makeTrack(1),
      moods: [{ id: 'chill', label: 'Chill', description: '' }],
      connection: { status: 'live' },
    });
    await user.keyboard(' ');
    await user.keyboard('n');
    await user.keyboard('l');
    await user.keyboard('d');
    expect(spies.togglePlay).toHaveBeenCalledOnce();
    expect(spies.next).toHaveBeenCalledOnce();
    expect(spies.like).toHaveBeenCalledOnce();
    expect(spies.dislike).toHaveBeenCalledOnce();
    await user.keyboard('/');
    const box = screen.getByTestId('mood-text');
    expect(box).toHaveFocus();
    await user.keyboard('nld');
    expect(box).toHaveValue('nld');
    expect(spies.next).toHaveBeenCalledOnce();
  });
});

describe('history labels', () => {
  it('say how each track went: played through, skipped at m:ss, liked, unliked, disliked', async () => {
    const ev = (id: number, action: string, position_ms: number | null = null) => ({
      id,
      track: makeTrack(id),
      action,
      at: '2026-01-01T10:00:00Z',
      position_ms,
    });
    const history = vi.fn().mockResolvedValue({
      events: [ev(5, 'unlike', 3000), ev(4, 'like', 2000), ev(3, 'skip', 65_000), ev(2, 'complete', 180_000), ev(1, 'dislike', 500)],
      next_before: null,
    });
    renderWithApp(<HistoryPage />, {}, { history });
    await waitFor(() => expect(screen.getAllByTestId('history-item')).toHaveLength(5));
    expect(screen.getAllByTestId('history-label').map((e) => e.textContent)).toEqual([
      'Unliked',
      'Liked',
      'Skipped at 1:05',
      'Played through',
      'Disliked',
    ]);
  });
});
