import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeMood, makeTrack, playableTrack } from '../test/fakes';
import { renderWithApp } from '../test/render';
import type { Track } from '../types';
import { CatalogNotice } from './CatalogNotice';
import { MoodPanel } from './MoodPanel';
import { NowPlaying } from './NowPlaying';
import { Queue } from './Queue';
import { SearchPanel } from './SearchPanel';
import { SettingsPanel } from './SettingsPanel';
import { SimilarPanel } from './SimilarPanel';

const spotifyOnly = (id: number, title = `Track ${id}`): Track =>
  makeTrack(id, {
    title,
    media: { kind: 'none', url: null, playable: false },
    links: { spotify: `spotify:track:s${id}`, spotify_url: `https://open.spotify.com/track/s${id}` },
  });

const queueFrame = (nowPlaying: Track | null, tracks: Track[]) => ({
  type: 'ws/queue' as const,
  frame: { type: 'queue' as const, seq: 3, now_playing: nowPlaying, tracks, mood: null, reason: null },
});

describe('SearchPanel', () => {
  it('searches as you type; playable results play now, others open in Spotify', async () => {
    const user = userEvent.setup();
    const search = vi.fn().mockResolvedValue({ tracks: [playableTrack(5, { title: 'Golden Hour' }), spotifyOnly(6, 'Golden Gate')], message: null });
    const { spies } = renderWithApp(<SearchPanel />, {}, { search });
    await user.type(screen.getByRole('searchbox', { name: /search tracks/i }), 'golden');
    await waitFor(() => expect(screen.getAllByTestId('search-result')).toHaveLength(2));
    expect(search).toHaveBeenCalledTimes(1);
    expect(search).toHaveBeenCalledWith('golden', 20, expect.any(AbortSignal));
    const [playable, elsewhere] = screen.getAllByTestId('search-result');
    await user.click(within(playable).getByRole('button', { name: 'Play Golden Hour now' }));
    expect(spies.playNow).toHaveBeenCalledWith(expect.objectContaining({ id: 5 }));
    expect(within(elsewhere).queryByTestId('track-play')).toBeNull();
    expect(within(elsewhere).getByRole('link', { name: 'Open Golden Gate in Spotify' })).toHaveAttribute(
      'href',
      'https://open.spotify.com/track/s6',
    );
    expect(within(elsewhere).getByTestId('unplayable-badge')).toBeInTheDocument();
  });

  it('shows the message for a search that matches nothing', async () => {
    const user = userEvent.setup();
    const search = vi.fn().mockResolvedValue({ tracks: [], message: 'Nothing matches “zzzzqqq”' });
    renderWithApp(<SearchPanel />, {}, { search });
    await user.type(screen.getByTestId('search-input'), 'zzzzqqq{Enter}');
    expect(await screen.findByTestId('search-message')).toHaveTextContent('Nothing matches “zzzzqqq”');
    expect(screen.queryByTestId('search-result')).toBeNull();
  });

  it('falls back to the spotify: URI when there is no web link', async () => {
    const user = userEvent.setup();
    const t = makeTrack(7, { title: 'Uri Only', media: { kind: 'none', url: null }, links: { spotify: 'spotify:track:u7' } });
    renderWithApp(<SearchPanel />, {}, { search: vi.fn().mockResolvedValue({ tracks: [t] }) });
    await user.type(screen.getByTestId('search-input'), 'uri{Enter}');
    expect(await screen.findByRole('link', { name: 'Open Uri Only in Spotify' })).toHaveAttribute('href', 'spotify:track:u7');
  });
});

describe('Queue', () => {
  it('a click on a queued track (or its play button) plays it now', async () => {
    const user = userEvent.setup();
    const { store, spies } = renderWithApp(<Queue />);
    act(() => store.dispatch(queueFrame(playableTrack(1), [playableTrack(2), playableTrack(3), spotifyOnly(4)])));
    const rows = screen.getAllByTestId('queue-item');
    await user.click(within(rows[1]).getByText('Track 3'));
    expect(spies.playNow).toHaveBeenLastCalledWith(expect.objectContaining({ id: 3 }));
    await user.click(within(rows[0]).getByRole('button', { name: 'Play Track 2 now' }));
    expect(spies.playNow).toHaveBeenLastCalledWith(expect.objectContaining({ id: 2 }));
    // An unplayable row: a badge and Open in Spotify; clicking it does not play.
    expect(rows[2]).toHaveAttribute('data-playable', 'false');
    expect(within(rows[2]).getByTestId('unplayable-badge')).toHaveTextContent("can't play here");
    expect(within(rows[2]).getByRole('link', { name: /open track 4 in spotify/i })).toBeInTheDocument();
    await user.click(within(rows[2]).getByText('Track 4'));
    expect(spies.playNow).toHaveBeenCalledTimes(2);
  });

  it('"more like this" on a queued track opens the similar list, whose tracks play now too', async () => {
    const user = userEvent.setup();
    const similar = vi.fn().mockResolvedValue({ tracks: [playableTrack(8, { title: 'Near One' }), spotifyOnly(9, 'Far One')] });
    const { store, spies } = renderWithApp(
      <>
        <SimilarPanel />
        <Queue />
      </>,
      {},
      { similar },
    );
    act(() => store.dispatch(queueFrame(playableTrack(1), [playableTrack(2, { title: 'Seed Song' })])));
    await user.click(screen.getByRole('button', { name: 'More like Seed Song' }));
    const panel = await screen.findByTestId('similar-panel');
    expect(within(panel).getByRole('heading')).toHaveTextContent('More like “Seed Song”');
    await waitFor(() => expect(within(panel).getAllByTestId('similar-item')).toHaveLength(2));
    expect(similar).toHaveBeenCalledWith(2, 10, expect.any(AbortSignal));
    await user.click(within(panel).getByRole('button', { name: 'Play Near One now' }));
    expect(spies.playNow).toHaveBeenCalledWith(expect.objectContaining({ id: 8 }));
    expect(within(panel).getByRole('link', { name: 'Open Far One in Spotify' })).toBeInTheDocument();
    await user.click(screen.getByTestId('similar-close'));
    expect(screen.queryByTestId('similar-panel')).toBeNull();
  });

  it('says plainly when nothing in the queue can play here', () => {
    const { store } = renderWithApp(<Queue />);
    act(() => {
      store.dispatch({ type: 'catalog/status', status: { state: 'ready', tracks: 50, playable: 5, loaded: 50, total: 50 } });
      store.dispatch(queueFrame(null, []));
    });
    expect(screen.getByTestId('nothing-playable')).toHaveTextContent('Nothing in your queue can play here.');
    expect(screen.getByText('musicrec import audio ~/Music')).toBeInTheDocument();
  });
});

describe('Transport', () => {
  it('has a previous button (enabled once there is a track to go back to) and a like toggle', async () => {
    const user = userEvent.setup();
    const { store, spies } = renderWithApp(<NowPlaying />, { nowPlaying: playableTrack(5), queue: [playableTrack(6)] });
    const previous = screen.getByRole('button', { name: /previous track/i });
    expect(previous).toBeDisabled();
    act(() => store.dispatch({ type: 'nav/pushBack', track: playableTrack(4) }));
    expect(previous).toBeEnabled();
    await user.click(previous);
    expect(spies.previous).toHaveBeenCalledOnce();

    const like = screen.getByRole('button', { name: /^like/i });
    expect(like).toHaveAttribute('aria-pressed', 'false');
    act(() => store.dispatch({ type: 'rating/set', trackId: 5, rating: 'like' }));
    expect(like).toHaveAttribute('aria-pressed', 'true');
    act(() => store.dispatch({ type: 'rating/clear', trackId: 5 }));
    expect(like).toHaveAttribute('aria-pressed', 'false');
  });

  it('the like button toggles through the controller: like, then unlike', async () => {
    const user = userEvent.setup();
    const { controller } = renderWithApp(<NowPlaying />, { nowPlaying: playableTrack(5) });
    vi.mocked(controller.like).mockRestore();
    const feedback = vi.spyOn(controller, 'feedback').mockImplementation(() => undefined);
    const like = screen.getByRole('button', { name: /^like/i });
    await user.click(like);
    expect(like).toHaveAttribute('aria-pressed', 'true');
    await user.click(like);
    expect(like).toHaveAttribute('aria-pressed', 'false');
    expect(feedback.mock.calls.map((c) => c[1])).toEqual(['like', 'unlike']);
  });

  it('"more like this" on the track now playing', async () => {
    const user = userEvent.setup();
    const { controller } = renderWithApp(<NowPlaying />, { nowPlaying: playableTrack(5) });
    const similar = vi.spyOn(controller.browse, 'similar').mockResolvedValue();
    await user.click(screen.getByTestId('now-playing-similar'));
    expect(similar).toHaveBeenCalledWith(expect.objectContaining({ id: 5 }));
  });
});

describe('CatalogNotice', () => {
  it('shows the load progress, then nothing once ready with playable tracks', () => {
    const { store } = renderWithApp(<CatalogNotice />);
    expect(screen.queryByTestId('catalog-loading')).toBeNull();
    act(() => store.dispatch({ type: 'catalog/status', status: { state: 'loading', tracks: 400, playable: 400, loaded: 400, total: 1000 } }));
    expect(screen.getByTestId('catalog-loading')).toHaveTextContent('Loading the catalog… 40%');
    act(() => store.dispatch({ type: 'catalog/status', status: { state: 'ready', tracks: 1000, playable: 900, loaded: 1000, total: 1000 } }));
    expect(screen.queryByTestId('catalog-loading')).toBeNull();
    expect(screen.queryByTestId('nothing-playable')).toBeNull();
  });

  it('says nothing in the catalog can play here, with the next steps', () => {
    const { store } = renderWithApp(<CatalogNotice />);
    act(() => store.dispatch({ type: 'catalog/status', status: { state: 'ready', tracks: 41000, playable: 0, loaded: 0, total: 0 } }));
    const notice = screen.getByTestId('nothing-playable');
    expect(notice).toHaveTextContent('Nothing in the catalog can play here.');
    expect(notice).toHaveTextContent('musicrec import audio ~/Music');
    expect(notice).toHaveTextContent('connect your music library (Navidrome, Jellyfin or any Subsonic server) in Settings › Your music library');
    expect(notice).not.toHaveTextContent('coming');
    act(() => store.dispatch({ type: 'catalog/status', status: { state: 'empty', tracks: 0, playable: 0, loaded: 0, total: 0 } }));
    expect(screen.getByTestId('nothing-playable')).toHaveTextContent('The catalog is empty');
  });
});

describe('SettingsPanel', () => {
  it('toggles "Include tracks that can\'t play here" on the server', async () => {
    const user = userEvent.setup();
    const { controller, store } = renderWithApp(<SettingsPanel />);
    const box = screen.getByRole('checkbox', { name: "Include tracks that can't play here" });
    expect(box).toBeDisabled(); // not loaded yet
    act(() => store.dispatch({ type: 'settings/loaded', includeUnplayable: false }));
    expect(box).toBeEnabled();
    expect(box).not.toBeChecked();
    const set = vi.spyOn(controller.library, 'setIncludeUnplayable').mockResolvedValue();
    await user.click(box);
    expect(set).toHaveBeenCalledWith(true);
  });
});

describe('MoodPanel errors', () => {
  it('shows why a mood was refused under the text box, until the text changes', async () => {
    const user = userEvent.setup();
    const { store } = renderWithApp(<MoodPanel />, { mood: makeMood() });
    act(() => store.dispatch({ type: 'mood/failed', message: 'Nothing in “zzzzqqq” names a mood.' }));
    const error = screen.getByTestId('mood-error');
    expect(error).toHaveTextContent('Nothing in “zzzzqqq” names a mood.');
    expect(screen.getByTestId('mood-text')).toHaveAttribute('aria-invalid', 'true');
    await user.type(screen.getByTestId('mood-text'), 'x');
    expect(screen.queryByTestId('mood-error')).toBeNull();
  });
});
