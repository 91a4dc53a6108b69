import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { makeLibrary, makeTrack, playableTrack } from '../test/fakes';
import { renderWithApp } from '../test/render';
import type { Library } from '../types';
import { CatalogNotice } from './CatalogNotice';
import { Cover, libraryCoverUrl } from './Cover';
import { LibrarySection } from './LibrarySection';
import { NowPlaying } from './NowPlaying';
import { Queue } from './Queue';
import { SettingsPanel } from './SettingsPanel';

function libraryApi(list: Library[] = [], over: Record<string, unknown> = {}) {
  return {
    libraries: vi.fn().mockResolvedValue({ libraries: list }),
    addLibrary: vi.fn(),
    syncLibrary: vi.fn().mockResolvedValue({ accepted: true }),
    removeLibrary: vi.fn().mockResolvedValue(undefined),
    ...over,
  };
}

async function fillForm(user: ReturnType<typeof userEvent.setup>, url: string, username: string, secret: string) {
  await user.type(screen.getByTestId('library-url'), url);
  await user.type(screen.getByTestId('library-username'), username);
  await user.type(screen.getByTestId('library-secret'), secret);
}

describe('connect form', () => {
  it('connects with a password, clears the form, and the library shows up syncing', async () => {
    const user = userEvent.setup();
    const added = makeLibrary(3, { url: 'https://music.example.org', tracks: 0, sync: { ...makeLibrary(3).sync, state: 'never', songs_done: 0, last_sync_at: null } });
    let answer!: (v: { library: Library }) => void;
    const api = libraryApi([], {
      addLibrary: vi.fn().mockReturnValue(new Promise((r) => (answer = r))),
    });
    const { store } = renderWithApp(<LibrarySection />, {}, api);
    await waitFor(() => expect(screen.getByTestId('library-empty')).toHaveTextContent('No library connected yet.'));
    api.libraries.mockReturnValue(new Promise(() => undefined));
    await fillForm(user, ' https://music.example.org ', 'ann', 'hunter2-secret');
    expect(screen.getByTestId('library-secret')).toHaveAttribute('type', 'password');
    await user.click(screen.getByTestId('library-connect'));
    expect(api.addLibrary).toHaveBeenCalledWith({ kind: 'subsonic', url: 'https://music.example.org', username: 'ann', password: 'hunter2-secret' });
    // While it connects: the secret is gone from the form, the button waits.
    expect(screen.getByTestId('library-secret')).toHaveValue('');
    expect(screen.getByTestId('library-connect')).toBeDisabled();
    expect(screen.getByTestId('library-connect')).toHaveTextContent('Connecting…');
    expect(screen.getByTestId('library-connecting')).toBeInTheDocument();
    await act(async () => answer({ library: added }));
    expect(screen.getByTestId('library-connected')).toHaveTextContent('Connected. The first sync has started');
    expect(screen.getByTestId('library-url')).toHaveValue('');
    expect(screen.getByTestId('library-username')).toHaveValue('');
    const item = screen.getByTestId('library-item');
    expect(within(item).getByTestId('library-name')).toHaveTextContent('music.example.org');
    expect(within(item).getByTestId('library-sync')).toHaveAttribute('data-state', 'syncing');
    expect(JSON.stringify(store.getState())).not.toContain('hunter2-secret');
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain('hunter2-secret');
  });

  it('sends an API key instead when that is chosen', async () => {
    const user = userEvent.setup();
    const api = libraryApi([], { addLibrary: vi.fn().mockResolvedValue({ library: makeLibrary(4) }) });
    renderWithApp(<LibrarySection />, {}, api);
    await user.click(screen.getByTestId('library-kind-api-key'));
    expect(screen.getByLabelText('API key', { selector: 'input[type=password]' })).toBe(screen.getByTestId('library-secret'));
    await fillForm(user, 'http://10.0.0.5:4533', 'ann', 'key-123');
    await user.click(screen.getByTestId('library-connect'));
    expect(api.addLibrary).toHaveBeenCalledWith({ kind: 'subsonic', url: 'http://10.0.0.5:4533', username: 'ann', api_key: 'key-123' });
  });

  it('checks the form before sending anything', async () => {
    const user = userEvent.setup();
    const api = libraryApi();
    renderWithApp(<LibrarySection />, {}, api);
    await user.type(screen.getByTestId('library-url'), 'music.example.org');
    await user.click(screen.getByTestId('library-connect'));
    expect(screen.getByTestId('library-connect-error')).toHaveTextContent('starting with http:// or https://');
    expect(screen.getByTestId('library-url')).toHaveAttribute('aria-invalid', 'true');
    await user.clear(screen.getByTestId('library-url'));
    await user.type(screen.getByTestId('library-url'), 'https://music.example.org');
    await user.type(screen.getByTestId('library-username'), 'ann');
    await user.click(screen.getByTestId('library-connect'));
    expect(screen.getByTestId('library-connect-error')).toHaveTextContent('Enter the password.');
    expect(screen.getByTestId('library-secret')).toHaveAttribute('aria-invalid', 'true');
    expect(api.addLibrary).not.toHaveBeenCalled();
  });

  const cases: Array<[string, ApiError, RegExp[], string | null]> = [
    [
      'wrong credentials',
      new ApiError(422, 'library_auth_failed', 'the library server refused the credentials'),
      [/did not accept this username and password/, /Check them and try again/],
      'library-secret',
    ],
    [
      'an address the policy refuses, with the admin hint',
      new ApiError(
        403,
        'library_address_refused',
        'localhost resolves to a loopback address (127.0.0.1), where this server\'s own services listen; an administrator can connect it with `musicrec library add`, or allow the host in the library_allowed_hosts setting',
      ),
      [/policy does not allow connecting that address/, /loopback address \(127\.0\.0\.1\)/, /an administrator can connect it with musicrec library add/, /library_allowed_hosts/],
      'library-url',
    ],
    ['already connected', new ApiError(409, 'library_exists', 'https://music.example.org is already connected for ann'), [/already connected/], 'library-url'],
    [
      'an unreachable server',
      new ApiError(502, 'library_unreachable', 'the library server cannot be reached (ConnectError)'),
      [/Could not reach the music server/, /running and can be reached/],
      'library-url',
    ],
    [
      'not a Subsonic server',
      new ApiError(502, 'library_bad_answer', 'the answer to ping is not a Subsonic response'),
      [/did not answer like a Subsonic server/],
      'library-url',
    ],
    ['a validation error', new ApiError(422, 'validation_error', 'username: String should have at most 200 characters'), [/not valid/, /Enter the username/], 'library-username'],
    ['a bad URL', new ApiError(422, 'invalid_library_url', "'https://' names no host"), [/not a server address/, /https:\/\/music\.example\.org/], 'library-url'],
  ];

  it.each(cases)('explains %s', async (_name, error, texts, field) => {
    const user = userEvent.setup();
    const api = libraryApi([], { addLibrary: vi.fn().mockRejectedValue(error) });
    renderWithApp(<LibrarySection />, {}, api);
    await fillForm(user, 'https://music.example.org', 'ann', 'pw');
    await user.click(screen.getByTestId('library-connect'));
    const alert = await screen.findByTestId('library-connect-error');
    expect(alert).toHaveAttribute('role', 'alert');
    expect(alert).toHaveAttribute('data-code', error.code);
    for (const t of texts) expect(alert.textContent).toMatch(t);
    if (field) expect(screen.getByTestId(field)).toHaveAttribute('aria-invalid', 'true');
    // The secret is cleared; what was typed otherwise stays for a second try.
    expect(screen.getByTestId('library-secret')).toHaveValue('');
    expect(screen.getByTestId('library-url')).toHaveValue('https://music.example.org');
    expect(screen.getByTestId('library-connect')).toBeEnabled();
    if (error.code === 'library_address_refused') expect(within(alert).getByText('musicrec library add').tagName).toBe('CODE');
  });
});

describe('library list', () => {
  it('shows status, tracks, last sync, sync and analysis progress', async () => {
    const list = [
      makeLibrary(1, { url: 'https://navi.example.org/music', tracks: 1234 }),
      makeLibrary(2, {
        url: 'http://192.168.1.5:4533',
        status: 'offline',
        last_error: 'the library server cannot be reached (ConnectError)',
        tracks: 10,
        sync: { ...makeLibrary(2).sync, state: 'syncing', running: true, songs_done: 1500 },
        analysis: { pending: 60, done: 30, failed: 10 },
      }),
      makeLibrary(3, { sync: { ...makeLibrary(3).sync, state: 'failed', error: 'the answer to search3 is not valid JSON' } }),
    ];
    renderWithApp(<LibrarySection />, {}, libraryApi(list));
    const items = await screen.findAllByTestId('library-item');
    expect(items).toHaveLength(3);
    const [a, b, c] = items.map((i) => within(i));
    expect(a.getByTestId('library-name')).toHaveTextContent('navi.example.org');
    expect(a.getByTestId('library-url-text')).toHaveTextContent('https://navi.example.org/music · navidrome · ann');
    expect(a.getByTestId('library-status')).toHaveTextContent('Online');
    expect(a.getByTestId('library-tracks')).toHaveTextContent('1,234 tracks');
    expect(a.getByTestId('library-sync')).toHaveTextContent(/^Last synced /);
    expect(a.queryByTestId('library-analysis')).toBeNull();
    expect(b.getByTestId('library-status')).toHaveTextContent('Offline');
    expect(b.getByTestId('library-offline')).toHaveTextContent('cannot play until it is back: the library server cannot be reached');
    expect(b.getByTestId('library-sync')).toHaveTextContent('Syncing… 1,500 songs so far');
    expect(b.getByTestId('library-analysis')).toHaveTextContent('Analysing the sound: 40 of 100 songs (10 songs could not be analysed)');
    expect(b.getByTestId('library-analysis')).toHaveAttribute('data-percent', '40');
    expect(b.getByRole('progressbar', { name: /Sound analysis/ })).toHaveAttribute('value', '40');
    expect(b.getByTestId('library-sync-now')).toBeDisabled(); // a sync is running
    expect(c.getByTestId('library-sync')).toHaveTextContent('The last sync failed: the answer to search3 is not valid JSON');
  });

  it('says when the analysis is through', async () => {
    renderWithApp(<LibrarySection />, {}, libraryApi([makeLibrary(1, { analysis: { pending: 0, done: 1, failed: 0 } })]));
    expect(await screen.findByTestId('library-analysis')).toHaveTextContent('Sound analysed: 1 song');
  });

  it('offers sync and remove only to the owner', async () => {
    renderWithApp(<LibrarySection />, {}, libraryApi([makeLibrary(1, { owned: false, username: null }), makeLibrary(2)]));
    const [theirs, mine] = (await screen.findAllByTestId('library-item')).map((i) => within(i));
    expect(theirs.queryByTestId('library-sync-now')).toBeNull();
    expect(theirs.queryByTestId('library-remove')).toBeNull();
    expect(mine.getByTestId('library-sync-now')).toBeEnabled();
    expect(mine.getByTestId('library-remove')).toBeEnabled();
  });

  it('sync now starts a sync and shows it running', async () => {
    const user = userEvent.setup();
    const api = libraryApi([makeLibrary(1)]);
    renderWithApp(<LibrarySection />, {}, api);
    const item = within(await screen.findByTestId('library-item'));
    api.libraries.mockResolvedValue({
      libraries: [makeLibrary(1, { sync: { ...makeLibrary(1).sync, state: 'syncing', running: true, songs_done: 200 } })],
    });
    await user.click(item.getByTestId('library-sync-now'));
    expect(api.syncLibrary).toHaveBeenCalledWith(1);
    await waitFor(() => expect(item.getByTestId('library-sync')).toHaveTextContent('Syncing… 200 songs so far'));
    expect(item.getByTestId('library-sync-now')).toBeDisabled();
  });

  it('remove asks first; cancel keeps it, confirm removes it', async () => {
    const user = userEvent.setup();
    const api = libraryApi([makeLibrary(1), makeLibrary(2)]);
    renderWithApp(<LibrarySection />, {}, api);
    const first = within((await screen.findAllByTestId('library-item'))[0]);
    await user.click(first.getByTestId('library-remove'));
    expect(first.getByTestId('library-confirm')).toHaveTextContent('Its tracks keep their history and lose their sound');
    await user.click(first.getByTestId('library-remove-cancel'));
    expect(api.removeLibrary).not.toHaveBeenCalled();
    await user.click(first.getByTestId('library-remove'));
    await user.click(first.getByTestId('library-remove-confirm'));
    expect(api.removeLibrary).toHaveBeenCalledWith(1);
    await waitFor(() => expect(screen.getAllByTestId('library-item')).toHaveLength(1));
    expect(screen.getByTestId('library-item')).toHaveAttribute('data-library-id', '2');
  });

  it('a refused action is shown on its library', async () => {
    const user = userEvent.setup();
    const api = libraryApi([makeLibrary(1)], {
      removeLibrary: vi.fn().mockRejectedValue(new ApiError(403, 'not_your_library', 'only the listener who connected a library may change it')),
    });
    renderWithApp(<LibrarySection />, {}, api);
    const item = within(await screen.findByTestId('library-item'));
    await user.click(item.getByTestId('library-remove'));
    await user.click(item.getByTestId('library-remove-confirm'));
    expect(await item.findByTestId('library-action-error')).toHaveTextContent('Only the listener who connected this library may remove it.');
  });

  it('a list that cannot load says so and can be retried; a server without libraries says that', async () => {
    const user = userEvent.setup();
    const api = libraryApi([], { libraries: vi.fn().mockRejectedValueOnce(new ApiError(503, 'service_unavailable', 'PostgreSQL is down')).mockResolvedValue({ libraries: [makeLibrary(1)] }) });
    renderWithApp(<LibrarySection />, {}, api);
    expect(await screen.findByTestId('library-list-error')).toHaveTextContent('Could not load your libraries: PostgreSQL is down');
    await user.click(screen.getByTestId('library-list-retry'));
    expect(await screen.findByTestId('library-item')).toBeInTheDocument();
    expect(screen.queryByTestId('library-list-error')).toBeNull();
  });

  it('a server without the libraries API hides the form', async () => {
    renderWithApp(<LibrarySection />, {}, libraryApi([], { libraries: vi.fn().mockRejectedValue(new ApiError(404, 'not_found', 'no such resource')) }));
    expect(await screen.findByTestId('library-unavailable')).toHaveTextContent('This server cannot connect music libraries.');
    expect(screen.queryByTestId('library-form')).toBeNull();
  });
});

describe('nothing can play here', () => {
  it('links to "Your music library" in the settings and puts the cursor in the address field', async () => {
    const user = userEvent.setup();
    const { store } = renderWithApp(
      <>
        <CatalogNotice />
        <SettingsPanel />
      </>,
      {},
      libraryApi(),
    );
    act(() => store.dispatch({ type: 'catalog/status', status: { state: 'ready', tracks: 500, playable: 0, loaded: 0, total: 0 } }));
    const link = screen.getByTestId('connect-library-link');
    expect(screen.getByTestId('nothing-playable')).not.toHaveTextContent('coming');
    expect(link).toHaveAttribute('href', '#your-library');
    expect(document.getElementById('your-library')).toBe(screen.getByTestId('library-section'));
    expect(screen.getByTestId('library-section')).toHaveTextContent('Your music library');
    await user.click(link);
    expect(screen.getByTestId('library-url')).toHaveFocus();
  });

  it('names the command when this server has no libraries API', async () => {
    const { store } = renderWithApp(<CatalogNotice />);
    act(() => store.dispatch({ type: 'libraries/unavailable' }));
    act(() => store.dispatch({ type: 'catalog/status', status: { state: 'empty', tracks: 0, playable: 0, loaded: 0, total: 0 } }));
    expect(screen.queryByTestId('connect-library-link')).toBeNull();
    expect(screen.getByTestId('nothing-playable')).toHaveTextContent('musicrec library add subsonic URL --user NAME');
  });
});

describe('cover', () => {
  it("shows a library track's own cover art, at a size that fits", () => {
    renderWithApp(<Cover track={makeTrack(5, { cover: '/api/tracks/5/cover' })} size={280} />);
    const img = screen.getByTestId('cover');
    expect(img).toHaveAttribute('data-cover', 'library');
    expect(img).toHaveAttribute('src', '/api/tracks/5/cover?size=600');
    expect(img).toHaveAttribute('alt', 'Cover art for Track 5');
    expect(libraryCoverUrl('/api/tracks/5/cover', 44)).toBe('/api/tracks/5/cover?size=128');
    expect(libraryCoverUrl('/api/tracks/5/cover?x=1', 100)).toBe('/api/tracks/5/cover?x=1&size=320');
    expect(libraryCoverUrl('javascript:alert(1)', 44)).toBeNull();
    expect(libraryCoverUrl('//evil.example/x', 44)).toBeNull();
  });

  it('falls back to the generated art when there is none, or it fails to load', () => {
    const { rerender } = renderWithApp(<Cover track={makeTrack(5, { cover: null })} />);
    expect(screen.getByTestId('cover')).toHaveAttribute('data-cover', 'generated');
    expect(screen.getByTestId('cover').getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    rerender(<Cover track={makeTrack(6, { cover: '/api/tracks/6/cover' })} />);
    const img = screen.getByTestId('cover');
    expect(img).toHaveAttribute('data-cover', 'library');
    fireEvent.error(img); // 404 no_cover, or the library is offline
    expect(screen.getByTestId('cover')).toHaveAttribute('data-cover', 'generated');
    expect(screen.getByTestId('cover')).toHaveAttribute('alt', 'Generated cover art for Track 6');
    // Another track with a cover gets its own try.
    rerender(<Cover track={makeTrack(7, { cover: '/api/tracks/7/cover' })} />);
    expect(screen.getByTestId('cover')).toHaveAttribute('data-cover', 'library');
  });

  it('now playing and the queue rows use it', () => {
    renderWithApp(
      <>
        <NowPlaying />
        <Queue />
      </>,
      {
        nowPlaying: playableTrack(1, { cover: '/api/tracks/1/cover' }),
        queue: [playableTrack(2, { cover: '/api/tracks/2/cover' }), playableTrack(3)],
        queueSeq: 3,
      },
    );
    const covers = screen.getAllByTestId('cover');
    expect(covers.map((c) => [c.getAttribute('data-cover'), c.getAttribute('src')?.split(';')[0]])).toEqual([
      ['library', '/api/tracks/1/cover?size=600'],
      ['library', '/api/tracks/2/cover?size=128'],
      ['generated', 'data:image/svg+xml'],
    ]);
  });
});
