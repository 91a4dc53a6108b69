import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { GroupApi } from '../groups/groupApi';
import type { Group } from '../groups/types';
import { App } from '../App';
import { Controller, ControllerContext } from '../store/controller';
import { initialState } from '../store/state';
import { createStore, StoreContext } from '../store/store';
import { makeMood, playableTrack } from '../test/fakes';
import { GroupPanel, startingMood } from './GroupPanel';
import { Queue } from './Queue';

const ANN = { id: 1, username: 'ann' };
const BOB = { id: 2, username: 'bob' };
const CID = { id: 3, username: 'cid' };

function group(over: Partial<Group> = {}): Group {
  return {
    id: 9,
    code: 'K7MQ2X',
    name: 'Friday',
    link: '/join/K7MQ2X',
    host: ANN,
    members: [
      { user: ANN, role: 'host', present: true },
      { user: BOB, role: 'guest', present: true },
      { user: CID, role: 'guest', present: false },
    ],
    guest_controls: false,
    mood: null,
    limit: 32,
    ended: false,
    ...over,
  };
}

function setup(groupApi: Partial<Record<keyof GroupApi, unknown>> = {}, ui = <GroupPanel />) {
  const store = createStore(initialState({ auth: { status: 'authenticated', user: ANN } }));
  const api = {
    create: vi.fn().mockResolvedValue({ group: group() }),
    join: vi.fn().mockResolvedValue({ group: group({ host: BOB }) }),
    mine: vi.fn().mockResolvedValue({ group: null }),
    update: vi.fn().mockImplementation(async (_id: number, body: Partial<Group>) => ({ group: group(body) })),
    makeHost: vi.fn().mockResolvedValue({ group: group({ host: BOB }) }),
    removeMember: vi.fn().mockResolvedValue(undefined),
    leave: vi.fn().mockResolvedValue(undefined),
    end: vi.fn().mockResolvedValue(undefined),
    ...groupApi,
  };
  const c = new Controller(store, { api: {} as never, groupApi: api as unknown as GroupApi, storage: null });
  const sent: unknown[] = [];
  vi.spyOn(c, 'sendFrame').mockImplementation((f) => (sent.push(f), true));
  render(
    <StoreContext.Provider value={store}>
      <ControllerContext.Provider value={c}>{ui}</ControllerContext.Provider>
    </StoreContext.Provider>,
  );
  return { store, c, api, sent };
}

describe('GroupPanel', () => {
  it('starts a group with a name and guest controls, then shows its code, link and QR code', async () => {
    const user = userEvent.setup();
    const { api, sent } = setup();
    await user.type(screen.getByTestId('group-name'), 'Friday');
    await user.click(screen.getByTestId('group-guest-controls'));
    await user.click(screen.getByTestId('group-start'));
    expect(api.create).toHaveBeenCalledWith({ name: 'Friday', guest_controls: true });
    expect(await screen.findByTestId('group-code')).toHaveTextContent('K7MQ2X');
    const url = `${window.location.origin}/join/K7MQ2X`;
    expect(screen.getByTestId('group-link')).toHaveAttribute('href', url);
    const qr = await screen.findByTestId('group-qr');
    expect(qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(qr).toHaveAttribute('data-qr-text', url);
    expect(sent).toContainEqual(expect.objectContaining({ type: 'group_join', group_id: 9 }));
  });

  it('starts the group in the mood the host is listening to', async () => {
    const user = userEvent.setup();
    const { api, store } = setup();
    act(() => store.dispatch({ type: 'mood/set', mood: makeMood({ preset: 'rainy_day', label: 'Rainy day' }) }));
    await user.click(screen.getByTestId('group-start'));
    expect(api.create).toHaveBeenCalledWith({ mood: 'rainy_day', guest_controls: false });
  });

  it('takes words or the pad when the host picked no preset', () => {
    expect(startingMood(makeMood({ preset: null, text: 'rainy sunday morning' }))).toEqual({ text: 'rainy sunday morning' });
    expect(startingMood(makeMood({ preset: null, energy: 0.2, valence: 0.7 }))).toEqual({ energy: 0.2, valence: 0.7 });
    expect(startingMood(null)).toEqual({});
  });

  it('copies the absolute link', async () => {
    const user = userEvent.setup();
    setup();
    await user.click(screen.getByTestId('group-start'));
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined);
    await user.click(await screen.findByTestId('group-copy-link'));
    expect(writeText).toHaveBeenCalledWith(`${window.location.origin}/join/K7MQ2X`);
    expect(await screen.findByText('Copied')).toBeInTheDocument();
  });

  it('joins by a typed code and says why a code is refused', async () => {
    const user = userEvent.setup();
    const { api } = setup({
      join: vi
        .fn()
        .mockRejectedValueOnce(new ApiError(409, 'group_full', 'full'))
        .mockResolvedValue({ group: group({ host: BOB }) }),
    });
    await user.type(screen.getByTestId('group-code-input'), 'k7mq2x');
    await user.click(screen.getByTestId('group-join'));
    expect(await screen.findByTestId('group-error')).toHaveTextContent('That group is full.');
    await user.click(screen.getByTestId('group-join'));
    expect(await screen.findByTestId('group-active')).toHaveAttribute('data-role', 'guest');
    expect(api.join).toHaveBeenCalledWith('K7MQ2X');
  });

  it('members: presence, the host badge and "you"; the host may remove, hand over and toggle guest controls', async () => {
    const user = userEvent.setup();
    const { api, store } = setup();
    await user.click(screen.getByTestId('group-start'));
    const rows = await screen.findAllByTestId('group-member');
    expect(rows.map((r) => r.getAttribute('data-present'))).toEqual(['true', 'true', 'false']);
    expect(within(rows[0]).getByTestId('host-badge')).toBeInTheDocument();
    expect(within(rows[0]).getByTestId('you-badge')).toBeInTheDocument();
    expect(within(rows[2]).getByText('away')).toBeInTheDocument();
    expect(within(rows[0]).queryByTestId('member-remove')).toBeNull(); // not oneself
    await user.click(within(rows[2]).getByTestId('member-remove'));
    expect(api.removeMember).toHaveBeenCalledWith(9, 3);
    await user.click(screen.getByTestId('group-guest-controls-toggle'));
    expect(api.update).toHaveBeenCalledWith(9, { guest_controls: true });
    await waitFor(() => expect(store.getState().group.group?.guest_controls).toBe(true));
    await user.click(within(screen.getAllByTestId('group-member')[1]).getByTestId('member-make-host'));
    expect(api.makeHost).toHaveBeenCalledWith(9, 2);
    await waitFor(() => expect(screen.getByTestId('group-active')).toHaveAttribute('data-role', 'guest'));
    expect(screen.queryByTestId('group-end')).toBeNull();
  });

  it('a guest without controls votes to skip and sees the count; the host sees Skip', async () => {
    const user = userEvent.setup();
    const { store, sent } = setup();
    await user.type(screen.getByTestId('group-code-input'), 'K7MQ2X');
    await user.click(screen.getByTestId('group-join'));
    await screen.findByTestId('group-active');
    act(() => {
      store.dispatch({ type: 'ws/queue', frame: { type: 'queue', seq: 3, group_id: 9, now_playing: playableTrack(50), tracks: [], mood: null, reason: null } });
      store.dispatch({ type: 'group/set', group: group({ host: BOB, skip_votes: { track_id: 50, votes: 1, needed: 2 } }) });
    });
    expect(screen.getByTestId('vote-skip')).toHaveTextContent('Vote skip (1/2)');
    await user.click(screen.getByTestId('vote-skip'));
    expect(sent).toContainEqual(expect.objectContaining({ type: 'vote_skip' }));
    act(() => store.dispatch({ type: 'group/set', group: group({ host: ANN }) }));
    expect(screen.queryByTestId('vote-skip')).toBeNull();
    expect(screen.getByTestId('group-skip')).toBeInTheDocument();
  });

  it('leave and end go back to the start form with a notice', async () => {
    const user = userEvent.setup();
    const { api } = setup();
    await user.click(screen.getByTestId('group-start'));
    await user.click(await screen.findByTestId('group-end'));
    expect(api.end).toHaveBeenCalledWith(9);
    expect(await screen.findByTestId('group-notice')).toHaveTextContent('You ended the group');
    expect(screen.getByTestId('group-start')).toBeInTheDocument();
  });

  it('queue rows say who added a track and why; in a group Play becomes Play next', async () => {
    const user = userEvent.setup();
    const { store, sent } = setup({}, <><GroupPanel /><Queue /></>);
    await user.click(screen.getByTestId('group-start'));
    act(() =>
      store.dispatch({
        type: 'ws/queue',
        frame: {
          type: 'queue',
          seq: 3,
          group_id: 9,
          now_playing: playableTrack(50),
          tracks: [playableTrack(51, { added_by: BOB, reason: 'bob wanted it' }), playableTrack(52, { added_by: null })],
          mood: null,
          reason: null,
        },
      }),
    );
    const rows = screen.getAllByTestId('queue-item');
    expect(within(rows[0]).getByTestId('track-added-by')).toHaveTextContent('added by bob');
    expect(within(rows[0]).getByTestId('track-reason')).toHaveTextContent('bob wanted it');
    expect(within(rows[1]).queryByTestId('track-added-by')).toBeNull();
    await user.click(within(rows[1]).getByTestId('track-play-next'));
    expect(sent).toContainEqual(expect.objectContaining({ type: 'queue_add', track_id: 52 }));
  });
});

describe('/join/<code>', () => {
  it('a logged-in listener joins and lands in the player', async () => {
    window.history.replaceState(null, '', '/join/K7MQ2X');
    const { api, store } = setup({}, <App />);
    await waitFor(() => expect(window.location.pathname).toBe('/'));
    expect(api.join).toHaveBeenCalledWith('K7MQ2X');
    expect(store.getState().group.group?.code).toBe('K7MQ2X');
    window.history.replaceState(null, '', '/');
  });
});
