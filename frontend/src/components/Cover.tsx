import { memo, useMemo, useState } from 'react';
import type { Track } from '../types';
import { coverDataUrl } from '../lib/coverArt';

interface Props {
  track: Pick<Track, 'id' | 'audio' | 'title' | 'cover'>;
  size?: number;
  className?: string;
  decorative?: boolean;
}

/**
 * The library's own cover art (`/api/tracks/<id>/cover?size=N`) at about twice the shown size,
 * from a few sizes only so the browser's cache serves every place a track shows up; null when
 * the track has none.
 */
export function libraryCoverUrl(cover: string | null | undefined, size: number): string | null {
  if (typeof cover !== 'string' || !/^(\/(?!\/)|https?:\/\/)/i.test(cover)) return null;
  const px = size <= 64 ? 128 : size <= 160 ? 320 : 600;
  return `${cover}${cover.includes('?') ? '&' : '?'}size=${px}`;
}

/** The track's cover: the library's art where it has some, else art generated from its sound. */
export const Cover = memo(function Cover({ track, size = 256, className, decorative }: Props) {
  const library = libraryCoverUrl(track.cover, size);
  // The library URL that failed to load (404 no_cover, library offline): generated art instead.
  const [failed, setFailed] = useState<string | null>(null);
  const useLibrary = library !== null && failed !== library;
  const generated = useMemo(() => (useLibrary ? null : coverDataUrl(track, 256)), [track, useLibrary]);
  const cls = className ? `cover ${className}` : 'cover';
  if (useLibrary) {
    return (
      <img
        className={cls}
        src={library}
        width={size}
        height={size}
        alt={decorative ? '' : `Cover art for ${track.title}`}
        loading={size <= 64 ? 'lazy' : undefined}
        decoding="async"
        onError={() => setFailed(library)}
        data-testid="cover"
        data-cover="library"
        draggable={false}
      />
    );
  }
  return (
    <img
      className={cls}
      src={generated ?? undefined}
      width={size}
      height={size}
      alt={decorative ? '' : `Generated cover art for ${track.title}`}
      data-testid="cover"
      data-cover="generated"
      draggable={false}
    />
  );
});
