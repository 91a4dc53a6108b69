import { memo, type MouseEvent, type ReactNode } from 'react';
import { artistLine, formatTime } from '../lib/format';
import { isPlayable } from '../lib/tracks';
import type { Track } from '../types';
import { Cover } from './Cover';

interface Props {
  track: Track;
  isNew?: boolean;
  active?: boolean;
  actions?: ReactNode;
  testId?: string;
  index?: number;
  /** A click anywhere on the row (outside its buttons and links) does this: a mouse shortcut for the row's Play button. */
  onActivate?: (track: Track) => void;
}

export const TrackRow = memo(function TrackRow({ track, isNew, active, actions, testId = 'track-row', index, onActivate }: Props) {
  const playable = isPlayable(track);
  const clickable = !!onActivate && playable;
  const cls = [
    'track-row',
    isNew ? 'track-row--new' : '',
    active ? 'track-row--active' : '',
    playable ? '' : 'track-row--unplayable',
    clickable ? 'track-row--clickable' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const onClick = clickable
    ? (e: MouseEvent<HTMLLIElement>) => {
        if ((e.target as HTMLElement).closest('button, a, input')) return;
        onActivate(track);
      }
    : undefined;
  return (
    <li
      className={cls}
      data-testid={testId}
      data-track-id={track.id}
      data-playable={playable ? 'true' : 'false'}
      data-new={isNew ? 'true' : undefined}
      aria-current={active || undefined}
      onClick={onClick}
    >
      {index !== undefined && <span className="track-row__index" aria-hidden="true">{index + 1}</span>}
      <Cover track={track} size={44} className="cover--thumb" decorative />
      <div className="track-row__main">
        <div className="track-row__title">
          <span className="track-row__name">{track.title}</span>
          {track.explicit && <span className="badge badge--explicit" title="Explicit">E</span>}
        </div>
        <div className="track-row__artists">
          {!playable && (
            <span className="badge badge--unplayable" title="This server has no audio for this track" data-testid="unplayable-badge">
              can't play here
            </span>
          )}
          {artistLine(track.artists)}
        </div>
        {track.reason && (
          <div className="track-row__reason" data-testid="track-reason">
            <span className="visually-hidden">Why: </span>
            {track.reason}
          </div>
        )}
        {track.added_by && (
          <div className="track-row__added-by small muted" data-testid="track-added-by">
            added by {track.added_by.username}
          </div>
        )}
      </div>
      <div className="track-row__side">
        <span className="track-row__duration">{track.duration_ms ? formatTime(track.duration_ms) : ''}</span>
        {actions}
      </div>
    </li>
  );
});
