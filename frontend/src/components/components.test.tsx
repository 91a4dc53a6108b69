import { act, fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeMood, makeTrack } from '../test/fakes';
import { renderWithApp } from '../test/render';
import { ConnectionBadge } from './ConnectionBadge';
import { coverSvg } from '../lib/coverArt';
import { MoodPad } from './MoodPad';
import { MoodPanel } from './MoodPanel';
import { NowPlaying } from './NowPlaying';
import { Queue } from './Queue';
import { render } from '@testing-library/react';

const moods = [
  { id: 'chill', label: 'Chill', description: 'laid back', energy: 0.3, valence: 0.6 },
  { id: 'focus', label: 'Focus', description: 'concentrate', energy: 0.4, valence: 0.5 },
];

describe('Queue', () => {
  it('renders each upcoming track with its reason and animates only new ones in', () => {
    const { store } = renderWithApp(<Queue />);
    expect(screen.getByTestId('queue-empty')).toHaveTextContent('Waiting');
    act(() =>
      store.dispatch({
        type: 'ws/queue',
        frame: { type: 'queue', seq: 3, now_playing: makeTrack(1), tracks: [makeTrack(2), makeTrack(3)], mood: null, reason: 'fits Chill' },
      }),
    );
    let items = screen.getAllByTestId('queue-item');
    expect(items.map((i) => i.dataset.trackId)).toEqual(['2', '3']);
    expect(within(items[0]).getByTestId('track-reason')).toHaveTextContent('because 2');
    expect(screen.getByTestId('queue')).toHaveAttribute('data-queue-seq', '3');
    const kept = items[1];
    act(() =>
      store.dispatch({
        type: 'ws/queue',
        frame: { type: 'queue', seq: 4, now_playing: makeTrack(2), tracks: [makeTrack(3), makeTrack(8)], mood: null, reason: null },
      }),
    );
    items = screen.getAllByTestId('queue-item');
    expect(items[0]).toBe(kept); // same DOM node: unchanged rows stay
    expect(items[0]).not.toHaveAttribute('data-new');
    expect(items[1]).toHaveAttribute('data-new', 'true');
    expect(items[1]).toHaveClass('track-row--new');
    expect(screen.getByText('Queue updated: 1 new track')).toBeInTheDocument();
  });
});

describe('NowPlaying', () => {
  it('shows the track facts, a generated cover, and that an unplayable track cannot play here', () => {
    const track = makeTrack(5, {
      title: 'Blue Hour', artists: ['A', 'B'], album: 'Dawn', genre: ['jazz', 'soul'], year: 1999, duration_ms: 125_000,
      links: { spotify: 'spotify:track:abc', spotify_url: 'https://open.spotify.com/track/abc' },
    });
    renderWithApp(<NowPlaying />, { nowPlaying: track });
    expect(screen.getByTestId('now-playing-title')).toHaveTextContent('Blue Hour');
    expect(screen.getByTestId('now-playing-artists')).toHaveTextContent('A, B');
    expect(screen.getByText('Dawn')).toBeInTheDocument();
    expect(screen.getByText('jazz, soul')).toBeInTheDocument();
    expect(screen.getByText('1999')).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Generated cover art for Blue Hour' })).toBeInTheDocument();
    expect(screen.getByTestId('no-audio')).toHaveTextContent("This track can't play here.");
    expect(screen.getByTestId('now-playing')).toHaveAttribute('data-playable', 'false');
    expect(screen.getByRole('link', { name: 'Open Blue Hour in Spotify' })).toHaveAttribute('href', 'https://open.spotify.com/track/abc');
    expect(screen.getByTestId('now-playing-reason')).toHaveTextContent('because 5');
  });

  it('wires the transport buttons to the controller', async () => {
    const user = userEvent.setup();
    const { spies } = renderWithApp(<NowPlaying />, { nowPlaying: makeTrack(5), queue: [makeTrack(6)] });
    await user.click(screen.getByRole('button', { name: /skip/i }));
    await user.click(screen.getByRole('button', { name: /^like/i }));
    await user.click(screen.getByRole('button', { name: /dislike/i }));
    await user.click(screen.getByRole('button', { name: /play/i }));
    expect(spies.next).toHaveBeenCalledOnce();
    expect(spies.like).toHaveBeenCalledOnce();
    expect(spies.dislike).toHaveBeenCalledOnce();
    expect(spies.togglePlay).toHaveBeenCalledOnce();
  });
});

describe('MoodPanel', () => {
  it('shows presets, the current mood, and sends chip and text changes', async () => {
    const user = userEvent.setup();
    const { spies } = renderWithApp(<MoodPanel />, { moods, mood: makeMood() });
    expect(screen.getByTestId('current-mood')).toHaveTextContent('Chill');
    expect(screen.getByTestId('mood-chip-chill')).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('mood-chip-focus')).toHaveAttribute('aria-pressed', 'false');
    await user.click(screen.getByTestId('mood-chip-focus'));
    expect(spies.setMood).toHaveBeenLastCalledWith({ mood: 'focus' });
    await user.type(screen.getByLabelText(/describe your mood/i), 'rainy sunday morning{Enter}');
    expect(spies.setMood).toHaveBeenLastCalledWith({ text: 'rainy sunday morning' });
  });
});

describe('MoodPad', () => {
  it('is a keyboard-operable slider that commits energy and valence', () => {
    vi.useFakeTimers();
    const onCommit = vi.fn();
    render(<MoodPad energy={0.5} valence={0.5} onCommit={onCommit} keyCommitDelayMs={300} />);
    const thumb = screen.getByRole('slider', { name: /energy and valence/i });
    expect(thumb).toHaveAttribute('aria-valuetext', expect.stringContaining('Energy 50%, valence 50%'));
    fireEvent.keyDown(thumb, { key: 'ArrowUp' });
    fireEvent.keyDown(thumb, { key: 'ArrowUp' });
    fireEvent.keyDown(thumb, { key: 'ArrowLeft' });
    expect(onCommit).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(300));
    expect(onCommit).toHaveBeenCalledTimes(1);
    expect(onCommit).toHaveBeenCalledWith({ energy: 0.6, valence: 0.45 });
    expect(thumb).toHaveAttribute('aria-valuenow', '45');
    fireEvent.keyDown(thumb, { key: 'PageUp' });
    fireEvent.keyDown(thumb, { key: 'Enter' });
    expect(onCommit).toHaveBeenLastCalledWith({ energy: 1, valence: 0.45 });
    vi.useRealTimers();
  });
});

describe('ConnectionBadge', () => {
  it('shows live, reconnecting with a countdown, and unsent actions', async () => {
    const user = userEvent.setup();
    const { store, spies } = renderWithApp(<ConnectionBadge />, { connection: { status: 'live' } });
    const badge = screen.getByTestId('connection-status');
    expect(badge).toHaveTextContent('Live');
    act(() => {
      store.dispatch({ type: 'connection/state', state: { status: 'reconnecting', attempt: 2, delayMs: 4000, retryAt: Date.now() + 4000 } });
      store.dispatch({ type: 'outbox/size', size: 3 });
    });
    expect(badge).toHaveAttribute('data-status', 'reconnecting');
    expect(badge).toHaveTextContent(/Reconnecting in \d s \(try 2\)/);
    expect(screen.getByTestId('outbox-pending')).toHaveTextContent('3 unsent');
    await user.click(screen.getByTestId('reconnect-now'));
    expect(spies.retryConnection).toHaveBeenCalled();
    act(() => store.dispatch({ type: 'connection/state', state: { status: 'offline' } }));
    expect(badge).toHaveTextContent('Offline');
  });
});

describe('cover art', () => {
  it('is deterministic and follows the audio profile', () => {
    const calm = makeTrack(1, { audio: { energy: 0.1, valence: 0.1, tempo: 60, acousticness: 0.9 } });
    const wild = makeTrack(1, { audio: { energy: 0.9, valence: 0.9, tempo: 170, acousticness: 0.1 } });
    expect(coverSvg(calm)).toBe(coverSvg(calm));
    expect(coverSvg(calm)).not.toBe(coverSvg(wild));
    expect(coverSvg(calm)).toContain('<circle');
    expect(coverSvg(wild)).toContain('<polygon');
    expect(coverSvg(wild).match(/<polygon/g)!.length).toBeGreaterThan(coverSvg(calm).match(/<circle/g)!.length - 3);
    expect(coverSvg(makeTrack(2, { audio: null }))).toMatch(/^<svg/);
  });
});
