import type { Track } from '../types';

/** Whether this server can play the track (the server says so in `media.playable`). */
export function isPlayable(track: Pick<Track, 'media'> | null | undefined): boolean {
  const media = track?.media;
  if (!media || media.kind === 'none' || !media.url) return false;
  return media.playable !== false;
}

/** Where to hear a track this server cannot play: the web player link, else the app URI. */
export function spotifyHref(track: Pick<Track, 'links'>): string | null {
  const links = track.links;
  if (!links) return null;
  return links.spotify_url || links.spotify || null;
}
