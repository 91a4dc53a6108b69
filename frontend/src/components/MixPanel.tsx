import { isPlayable } from '../lib/tracks';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import { Filters } from './Filters';
import { OpenElsewhere, TrackActions } from './TrackActions';
import { TrackRow } from './TrackRow';

export function MixPanel() {
  const c = useController();
  const mix = useAppState((s) => s.mix);
  const source = useAppState((s) => s.source);
  const reco = useAppState((s) => s.reco);

  return (
    <section className="panel mix" aria-labelledby="mix-heading" data-testid="mix-panel">
      <div className="panel__head">
        <h2 id="mix-heading">Quick Mix &amp; Discover</h2>
      </div>
      <Filters />
      <div className="row gap">
        <button
          type="button"
          className="btn btn--accent"
          onClick={() => void c.discover.quickMix()}
          disabled={mix.status === 'loading'}
          data-testid="quickmix"
        >
          {mix.status === 'loading' ? 'Mixing…' : 'Quick Mix'}
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => void c.discover.loadRecommendations()}
          disabled={reco.status === 'loading'}
          data-testid="discover"
        >
          {reco.status === 'loading' ? 'Loading…' : 'Discover'}
        </button>
        {source.kind === 'mix' && (
          <button type="button" className="btn" onClick={() => c.discover.backToQueue()} data-testid="back-to-queue">
            Back to live queue
          </button>
        )}
      </div>
      {mix.status === 'error' && (
        <p className="field-error" role="alert" data-testid="mix-error">
          {mix.error}
        </p>
      )}
      {mix.status === 'ready' && (
        <div data-testid="mix" data-mix-id={mix.id ?? ''}>
          <div className="row between">
            <h3>
              Your mix <span className="muted small">{mix.tracks.length} tracks{mix.cached ? ' · cached' : ''}</span>
            </h3>
            <button
              type="button"
              className="btn btn--small"
              onClick={() => c.discover.playMix(0)}
              disabled={mix.tracks.length === 0}
              data-testid="play-mix"
            >
              Play mix
            </button>
          </div>
          {mix.tracks.length === 0 ? (
            <p className="muted">No tracks match these filters.</p>
          ) : (
            <ol className="track-list" aria-label="Quick Mix tracks">
              {mix.tracks.map((t, i) => (
                <TrackRow
                  key={`${t.id}-${i}`}
                  track={t}
                  index={i}
                  active={source.kind === 'mix' && source.index === i}
                  testId="mix-item"
                  actions={
                    isPlayable(t) ? (
                      <button
                        type="button"
                        className="btn btn--small btn--ghost"
                        onClick={() => c.discover.playMix(i)}
                        aria-label={`Play ${t.title}`}
                      >
                        Play
                      </button>
                    ) : (
                      <OpenElsewhere track={t} />
                    )
                  }
                />
              ))}
            </ol>
          )}
        </div>
      )}
      {reco.status === 'error' && (
        <p className="field-error" role="alert" data-testid="reco-error">
          {reco.error}
        </p>
      )}
      {reco.status === 'ready' && (
        <div data-testid="recommendations">
          <h3>Discover</h3>
          {reco.explanation && <p className="small muted">{reco.explanation}</p>}
          {reco.tracks.length === 0 ? (
            <p className="muted">No recommendations match these filters.</p>
          ) : (
            <ol className="track-list" aria-label="Recommended tracks">
              {reco.tracks.map((t) => (
                <TrackRow key={t.id} track={t} testId="reco-item" actions={<TrackActions track={t} />} />
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}
