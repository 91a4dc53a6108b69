import { artistLine } from '../lib/format';
import { isPlayable } from '../lib/tracks';
import { useController } from '../store/controller';
import { currentTrack } from '../store/state';
import { useAppState } from '../store/store';
import { Cover } from './Cover';
import { SimilarIcon } from './Icons';
import { OpenElsewhere } from './TrackActions';
import { Transport } from './Transport';

export function NowPlaying() {
  const c = useController();
  const track = useAppState(currentTrack);
  const source = useAppState((s) => s.source);
  const mixLength = useAppState((s) => s.mix.tracks.length);
  const status = useAppState((s) => s.playback.status);
  const message = useAppState((s) => s.playback.message);
  const wantsToPlay = useAppState((s) => s.playback.wantsToPlay);
  const inGroup = useAppState((s) => s.group.group !== null);

  if (!track) {
    return (
      <section className="panel now-playing now-playing--empty" aria-label="Now playing" data-testid="now-playing">
        <div className="cover cover--placeholder" aria-hidden="true" />
        <div>
          <h2>Nothing playing yet</h2>
          <p className="muted">Pick a mood, then press play. Your queue updates live as you listen.</p>
        </div>
        <Transport />
      </section>
    );
  }

  const playable = isPlayable(track);

  return (
    <section
      className="panel now-playing"
      aria-label="Now playing"
      data-testid="now-playing"
      data-track-id={track.id}
      data-playable={playable ? 'true' : 'false'}
    >
      <Cover track={track} size={280} className="cover--large" />
      <div className="now-playing__meta">
        <p className="eyebrow">
          {source.kind === 'mix' ? `Quick Mix · ${source.index + 1} of ${mixLength}` : 'Now playing'}
          {status === 'loading' && <span className="muted"> · loading…</span>}
        </p>
        <h2 className="now-playing__title" data-testid="now-playing-title">
          {track.title}
          {track.explicit && <span className="badge badge--explicit" title="Explicit">E</span>}
        </h2>
        <p className="now-playing__artists" data-testid="now-playing-artists">{artistLine(track.artists)}</p>
        <dl className="facts">
          {track.album && (
            <div>
              <dt>Album</dt>
              <dd>{track.album}</dd>
            </div>
          )}
          {track.genre?.length > 0 && (
            <div>
              <dt>Genre</dt>
              <dd>{track.genre.join(', ')}</dd>
            </div>
          )}
          {track.year && (
            <div>
              <dt>Year</dt>
              <dd>{track.year}</dd>
            </div>
          )}
        </dl>
        {track.reason && (
          <p className="why" data-testid="now-playing-reason">
            <span className="why__label">Why</span> {track.reason}
          </p>
        )}
        <div className="row gap now-playing__actions">
          <button
            type="button"
            className="btn btn--small"
            onClick={() => void c.browse.similar(track)}
            data-testid="now-playing-similar"
          >
            <SimilarIcon /> More like this
          </button>
          {!playable && <OpenElsewhere track={track} />}
        </div>
        {!playable && (
          <p className="notice" role="status" data-testid="no-audio">
            This track can't play here.{' '}
            {inGroup
              ? 'The others in the group hear it; yours starts again with the next track.'
              : wantsToPlay
                ? 'The player moves on to the next one that can.'
                : 'Press play to go to the next one that can.'}
          </p>
        )}
        {playable && message && (
          <p className="notice" role="status" data-testid="playback-message">
            {message}
          </p>
        )}
      </div>
      <Transport />
    </section>
  );
}
