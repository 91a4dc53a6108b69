import { NO_AUDIO_MESSAGE } from '../audio/engine';
import { artistLine, formatTime } from '../lib/format';
import { currentTrack } from '../store/state';
import { useAppState } from '../store/store';
import { Cover } from './Cover';
import { Transport } from './Transport';

export function NowPlaying() {
  const track = useAppState(currentTrack);
  const source = useAppState((s) => s.source);
  const mixLength = useAppState((s) => s.mix.tracks.length);
  const status = useAppState((s) => s.playback.status);
  const message = useAppState((s) => s.playback.message);
  const mediaKind = useAppState((s) => s.playback.mediaKind);
  const loadedId = useAppState((s) => s.playback.trackId);
  const positionMs = useAppState((s) => s.playback.positionMs);
  const durationMs = useAppState((s) => s.playback.durationMs);

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

  const loaded = loadedId === track.id;
  const noAudio =
    track.media?.kind === 'none' || (loaded && (mediaKind === 'none' || !!message?.startsWith(NO_AUDIO_MESSAGE)));
  const remaining = Math.max(0, (loaded ? durationMs : (track.duration_ms ?? 0)) - (loaded ? positionMs : 0));

  return (
    <section className="panel now-playing" aria-label="Now playing" data-testid="now-playing" data-track-id={track.id}>
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
        {noAudio && (
          <p className="notice" role="status" data-testid="no-audio">
            {message && message.startsWith(NO_AUDIO_MESSAGE) ? message : NO_AUDIO_MESSAGE}. It moves on in{' '}
            <strong data-testid="countdown">{formatTime(remaining)}</strong>.
          </p>
        )}
        {!noAudio && message && (
          <p className="notice" role="status" data-testid="playback-message">
            {message}
          </p>
        )}
      </div>
      <Transport />
    </section>
  );
}
