// The absolute join link of a group (what the copy button and the QR code carry).
import type { Group } from './types';

export function joinPath(group: Pick<Group, 'code' | 'link'>): string {
  return group.link && group.link.startsWith('/') ? group.link : `/join/${encodeURIComponent(group.code)}`;
}

export function joinUrl(group: Pick<Group, 'code' | 'link'>, origin: string = window.location.origin): string {
  return `${origin.replace(/\/$/, '')}${joinPath(group)}`;
}

/** The code in a /join/<code> path, or null for any other path. */
export function codeFromPath(path: string): string | null {
  const m = /^\/join\/([^/]+)\/?$/.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}
