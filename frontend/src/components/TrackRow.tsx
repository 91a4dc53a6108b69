import { memo, type ReactNode } from 'react';
import { artistLine, formatTime } from '../lib/format';
import type { Track } from '../types';
import { Cover } from './Cover';

interface Props {
  track: Track;
  isNew?: boolean;
  active?: boolean;
  actions?: ReactNode;
  testId?: string;
  index?: number;
}

export const TrackRow = memo(function TrackRow({ track, isNew, active, actions, testId = 'track-row', index }: Props) {
  const cls = ['track-row', isNew ? 'track-row--new' : '', active ? 'track-row--active' : ''].filter(Boolean).join(' ');
  return (
    <li className={cls} data-testid={testId} data-track-id={track.id} data-new={isNew ? 'true' : undefined} aria-current={active || undefined}>
      {index !== undefined && <span className="track-row__index" aria-hidden="true">{index + 1}</span>}
      <Cover track={track} size={44} className="cover--thumb" decorative />
      <div className="track-row__main">
        <div className="track-row__title">
          {track.title}
          {track.explicit && <span className="badge badge--explicit" title="Explicit">E</span>}
        </div>
        <div className="track-row__artists">{artistLine(track.artists)}</div>
        {track.reason && (
          <div className="track-row__reason" data-testid="track-reason">
            <span className="visually-hidden">Why: </span>
            {track.reason}
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
