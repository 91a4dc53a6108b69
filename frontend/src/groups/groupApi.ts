// HTTP calls of "Listening together" (JSON; errors are ApiError with the server's code).
import { request } from '../api/client';
import type { MoodRequest } from '../types';
import type { CreateGroupRequest, Group } from './types';

const path = (id: number | string) => `/api/groups/${encodeURIComponent(String(id))}`;

export const groupApi = {
  create: (body: CreateGroupRequest) => request<{ group: Group }>('POST', '/api/groups', { body }),
  join: (code: string) => request<{ group: Group }>('POST', '/api/groups/join', { body: { code } }),
  get: (id: number | string) => request<{ group: Group }>('GET', path(id)),
  /** The caller's current group, if any (after a reload). */
  mine: () => request<{ group: Group | null }>('GET', '/api/me/group'),
  setMood: (id: number | string, mood: MoodRequest) => request<{ group: Group }>('PUT', `${path(id)}/mood`, { body: mood }),
  update: (id: number | string, body: { name?: string; guest_controls?: boolean }) =>
    request<{ group: Group }>('PATCH', path(id), { body }),
  makeHost: (id: number | string, userId: number | string) =>
    request<{ group: Group }>('PUT', `${path(id)}/host`, { body: { user_id: userId } }),
  removeMember: (id: number | string, userId: number | string) =>
    request<void>('DELETE', `${path(id)}/members/${encodeURIComponent(String(userId))}`),
  leave: (id: number | string) => request<void>('POST', `${path(id)}/leave`),
  end: (id: number | string) => request<void>('DELETE', path(id)),
};

export type GroupApi = typeof groupApi;
