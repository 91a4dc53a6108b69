// Shapes of "Listening together" (shared/CONTRACT.md, "Listening together" + the EXT fields).
import type { Mood, User } from '../types';

export interface GroupUser {
  id: number | string;
  username: string;
}

export interface GroupMember {
  user: GroupUser;
  role: 'host' | 'guest';
  /** Has an open connection following the group right now. */
  present: boolean;
  joined_at?: string;
}

export interface SkipVotes {
  track_id: number;
  votes: number;
  needed: number;
}

/** Where the shared track is: at server time T a player is at `position_ms + (T - server_ms)` while playing. */
export interface Playback {
  track_id: number | null;
  state: 'playing' | 'paused';
  position_ms: number;
  server_ms: number;
}

export interface Group {
  id: number | string;
  /** 6 characters, A-Z and 2-9. */
  code: string;
  name: string;
  /** Path of the join link ("/join/<code>"). */
  link?: string;
  host: GroupUser;
  members: GroupMember[];
  guest_controls: boolean;
  mood: Mood | null;
  limit: number;
  ended: boolean;
  skip_votes?: SkipVotes | null;
  playback?: Playback | null;
}

/** Why this user is no longer in a group (a `group` frame's `status`). */
export type LeftStatus = 'left' | 'removed' | 'ended';

export interface CreateGroupRequest {
  name?: string;
  mood?: string;
  text?: string;
  energy?: number;
  valence?: number;
  guest_controls?: boolean;
}

export function sameUser(a: GroupUser | User | null | undefined, b: GroupUser | User | null | undefined): boolean {
  return !!a && !!b && String(a.id) === String(b.id);
}

/** Characters a group code is made of. */
export const CODE_ALPHABET = /^[A-Z2-9]{6}$/;

/** What a listener typed (or a link held) as a code: upper case, spaces and dashes gone. */
export function normalizeCode(raw: string): string {
  return raw.toUpperCase().replace(/[\s-]+/g, '');
}
