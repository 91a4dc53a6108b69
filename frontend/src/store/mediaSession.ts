// The OS media controls (lock screen, media keys): actions and the current track's metadata.
import { coverDataUrl } from '../lib/coverArt';
import type { Track } from '../types';

export interface MediaSessionHandlers {
  play(): void;
  pause(): void;
  next(): void;
  previous(): void;
  seek(ms: number): void;
}

function session(): MediaSession | undefined {
  return typeof navigator !== 'undefined' ? navigator.mediaSession : undefined;
}

export class MediaSessionBridge {
  private lastTrackId: number | null = null;

  install(h: MediaSessionHandlers): void {
    const ms = session();
    if (!ms) return;
    const handlers: Array<[MediaSessionAction, MediaSessionActionHandler]> = [
      ['play', () => h.play()],
      ['pause', () => h.pause()],
      ['nexttrack', () => h.next()],
      ['previoustrack', () => h.previous()],
      ['seekto', (d) => d.seekTime !== undefined && h.seek(d.seekTime * 1000)],
    ];
    for (const [action, handler] of handlers) {
      try {
        ms.setActionHandler(action, handler);
      } catch {
        /* unsupported action */
      }
    }
  }

  update(track: Track | null, status: string): void {
    const ms = session();
    if (!ms) return;
    ms.playbackState = status === 'playing' ? 'playing' : track ? 'paused' : 'none';
    const id = track?.id ?? null;
    if (id === this.lastTrackId) return;
    this.lastTrackId = id;
    if (!track || typeof MediaMetadata === 'undefined') {
      ms.metadata = null;
      return;
    }
    ms.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artists.join(', '),
      album: track.album ?? '',
      artwork: [{ src: coverDataUrl(track, 512), sizes: '512x512', type: 'image/svg+xml' }],
    });
  }
}
