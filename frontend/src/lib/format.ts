export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '0:00';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function artistLine(artists: string[] | null | undefined): string {
  return artists && artists.length ? artists.join(', ') : 'Unknown artist';
}

export function formatWhen(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === now.toDateString();
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

export const ACTION_LABELS: Record<string, string> = {
  play: 'Played',
  complete: 'Played through',
  skip: 'Skipped',
  like: 'Liked',
  unlike: 'Unliked',
  dislike: 'Disliked',
};

/** One history row's outcome in words: "Played through", "Skipped at 1:05", "Liked", ... */
export function historyLabel(event: { action: string; position_ms?: number | null }): string {
  if (event.action === 'skip' && typeof event.position_ms === 'number' && event.position_ms >= 0) {
    return `Skipped at ${formatTime(event.position_ms)}`;
  }
  return ACTION_LABELS[event.action] ?? event.action;
}

/** A file size in words: "812 bytes", "12 KiB", "3.4 MiB", "64 MiB". */
export function formatBytes(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib) return `${(bytes / mib).toFixed(bytes >= 10 * mib ? 0 : 1)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}
