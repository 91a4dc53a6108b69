import { memo, useMemo } from 'react';
import type { Track } from '../types';
import { coverDataUrl } from './coverArt';

interface Props {
  track: Pick<Track, 'id' | 'audio' | 'title'>;
  size?: number;
  className?: string;
  decorative?: boolean;
}

export const Cover = memo(function Cover({ track, size = 256, className, decorative }: Props) {
  const src = useMemo(() => coverDataUrl(track, 256), [track]);
  return (
    <img
      className={className ? `cover ${className}` : 'cover'}
      src={src}
      width={size}
      height={size}
      alt={decorative ? '' : `Generated cover art for ${track.title}`}
      data-testid="cover"
      draggable={false}
    />
  );
});
