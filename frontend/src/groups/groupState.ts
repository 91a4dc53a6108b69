// The group slice of the app state: the group this listener follows (if any), where its
// shared track is, and the last notice (left / removed / ended). Pure reducer.
import type { Group, Playback } from './types';

export interface GroupState {
  group: Group | null;
  playback: Playback | null;
  /** Shown in the panel after leaving, being removed, or the group ending. */
  notice: string | null;
  /** A create/join/leave call is running. */
  busy: boolean;
  error: string | null;
}

export const initialGroup: GroupState = { group: null, playback: null, notice: null, busy: false, error: null };

export type GroupAction =
  | { type: 'group/set'; group: Group }
  | { type: 'group/playback'; playback: Playback }
  | { type: 'group/left'; notice: string | null }
  | { type: 'group/busy'; busy: boolean }
  | { type: 'group/error'; error: string | null };

export function groupReducer(state: GroupState, action: GroupAction): GroupState {
  switch (action.type) {
    case 'group/set': {
      const g = action.group;
      // EXT: a group frame may carry the playback too; a newer playback frame wins.
      const pb = g.playback ?? null;
      const playback = pb && (!state.playback || pb.server_ms >= state.playback.server_ms) ? pb : state.playback;
      return { ...state, group: g, playback: state.group && String(state.group.id) !== String(g.id) ? pb : playback, notice: null, error: null };
    }
    case 'group/playback':
      return state.group ? { ...state, playback: action.playback } : state;
    case 'group/left':
      return { ...initialGroup, notice: action.notice };
    case 'group/busy':
      return state.busy === action.busy ? state : { ...state, busy: action.busy };
    case 'group/error':
      return { ...state, error: action.error, busy: false };
    default:
      return state;
  }
}
