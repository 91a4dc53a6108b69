import { memo } from 'react';
import { isPlayable, spotifyHref } from '../lib/tracks';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import type { Track } from '../types';
import { ExternalIcon, SimilarIcon, SmallPlayIcon } from './Icons';

interface Props {
  track: Track;
  /** Leave out "more like this" (e.g. in the list of tracks like this one). */
  similar?: boolean;
}

/** "Open in Spotify" for a track this server cannot play (or a plain note when no link is known). */
export function OpenElsewhere({ track }: { track: Track }) {
  const href = spotifyHref(track);
  if (!href) {
    return (
      <span className="small muted" data-testid="track-cannot-play">
        Can't play here
      </span>
    );
  }
  return (
    <a
      className="btn btn--small btn--ghost open-link"
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      aria-label={`Open ${track.title} in Spotify`}
      data-testid="track-open-spotify"
    >
      <span className="open-link__long">Open in </span>Spotify <ExternalIcon />
    </a>
  );
}

/** Play now (or Open in Spotify when it cannot play here) and More like this, for one track. */
export const TrackActions = memo(function TrackActions({ track, similar = true }: Props) {
  const c = useController();
  const inGroup = useAppState((s) => s.group.group !== null);
  return (
    <span className="track-actions">
      {isPlayable(track) && inGroup ? (
        <button
          type="button"
          className="btn btn--small btn--ghost"
          onClick={() => c.groups.queueAdd(track)}
          aria-label={`Play ${track.title} next for the group`}
          title="Play next for the group"
          data-testid="track-play-next"
        >
          Play next
        </button>
      ) : isPlayable(track) ? (
        <button
          type="button"
          className="icon-btn icon-btn--small"
          onClick={() => c.playNow(track)}
          aria-label={`Play ${track.title} now`}
          title="Play now"
          data-testid="track-play"
        >
          <SmallPlayIcon />
        </button>
      ) : (
        <OpenElsewhere track={track} />
      )}
      {similar && (
        <button
          type="button"
          className="icon-btn icon-btn--small"
          onClick={() => void c.browse.similar(track)}
          aria-label={`More like ${track.title}`}
          title="More like this"
          data-testid="track-similar"
        >
          <SimilarIcon />
        </button>
      )}
    </span>
  );
});
