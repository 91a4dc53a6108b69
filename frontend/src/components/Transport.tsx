import { useEffect, useState } from 'react';
import { formatTime } from '../lib/format';
import { useController } from '../store/controller';
import { canGoBack } from '../store/navigation';
import { currentTrack, ratingOf } from '../store/state';
import { useAppState } from '../store/store';
import { HeartIcon, NextIcon, PauseIcon, PlayIcon, PrevIcon, ThumbDownIcon, VolumeIcon } from './Icons';

export function Transport() {
  const c = useController();
  const track = useAppState(currentTrack);
  const status = useAppState((s) => s.playback.status);
  const wantsToPlay = useAppState((s) => s.playback.wantsToPlay);
  const positionMs = useAppState((s) => s.playback.positionMs);
  const durationMs = useAppState((s) => s.playback.durationMs);
  const volume = useAppState((s) => s.playback.volume);
  const loadedId = useAppState((s) => s.playback.trackId);
  const rating = useAppState((s) => ratingOf(s, currentTrack(s)));
  const hasQueue = useAppState((s) => s.queue.length > 0);
  const hasPrevious = useAppState(canGoBack);

  // While dragging, show the thumb where the listener holds it.
  const [scrub, setScrub] = useState<number | null>(null);
  useEffect(() => setScrub(null), [track?.id]);

  const loaded = track !== null && loadedId === track.id;
  const dur = loaded ? durationMs : (track?.duration_ms ?? 0);
  const pos = scrub ?? (loaded ? positionMs : 0);
  const playing = status === 'playing' || (status === 'loading' && wantsToPlay);
  const canSeek = loaded && dur > 0 && status !== 'loading';

  return (
    <div className="transport" data-testid="transport">
      <div className="seek">
        <span className="seek__time" data-testid="position">{formatTime(pos)}</span>
        <input
          type="range"
          className="seek__bar"
          aria-label="Seek"
          aria-valuetext={`${formatTime(pos)} of ${formatTime(dur)}`}
          min={0}
          max={Math.max(1, Math.round(dur))}
          step={1000}
          value={Math.min(Math.round(pos), Math.max(1, Math.round(dur)))}
          disabled={!canSeek}
          onChange={(e) => setScrub(Number(e.target.value))}
          onPointerUp={() => {
            if (scrub !== null) c.seek(scrub);
            setScrub(null);
          }}
          onKeyUp={() => {
            if (scrub !== null) c.seek(scrub);
            setScrub(null);
          }}
          data-testid="seek"
        />
        <span className="seek__time" data-testid="duration">{formatTime(dur)}</span>
      </div>
      <div className="transport__buttons">
        <button
          type="button"
          className={`icon-btn ${rating === 'dislike' ? 'is-on' : ''}`}
          onClick={() => c.dislike()}
          disabled={!track}
          aria-label="Dislike (D)"
          aria-pressed={rating === 'dislike'}
          title="Dislike (D)"
          data-testid="dislike"
        >
          <ThumbDownIcon filled={rating === 'dislike'} />
        </button>
        <button
          type="button"
          className="icon-btn"
          onClick={() => c.previous()}
          disabled={!hasPrevious}
          aria-label="Previous track (P)"
          title="Previous track (P)"
          data-testid="previous"
        >
          <PrevIcon />
        </button>
        <button
          type="button"
          className="icon-btn icon-btn--primary"
          onClick={() => c.togglePlay()}
          disabled={!track && !hasQueue}
          aria-label={playing ? 'Pause (Space)' : 'Play (Space)'}
          title={playing ? 'Pause (Space)' : 'Play (Space)'}
          data-testid="play-pause"
          data-state={playing ? 'playing' : 'paused'}
        >
          {playing ? <PauseIcon /> : <PlayIcon />}
        </button>
        <button
          type="button"
          className="icon-btn"
          onClick={() => c.next()}
          disabled={!track && !hasQueue}
          aria-label="Skip to next track (N)"
          title="Skip (N)"
          data-testid="skip"
        >
          <NextIcon />
        </button>
        <button
          type="button"
          className={`icon-btn ${rating === 'like' ? 'is-on is-like' : ''}`}
          onClick={() => c.like()}
          disabled={!track}
          aria-label="Like (L)"
          aria-pressed={rating === 'like'}
          title={rating === 'like' ? 'Liked: press again to take the like back (L)' : 'Like (L)'}
          data-testid="like"
        >
          <HeartIcon filled={rating === 'like'} />
        </button>
      </div>
      <label className="volume">
        <VolumeIcon />
        <span className="visually-hidden">Volume</span>
        <input
          type="range"
          min={0}
          max={100}
          step={1}
          value={Math.round(volume * 100)}
          onChange={(e) => c.setVolume(Number(e.target.value) / 100)}
          aria-valuetext={`${Math.round(volume * 100)}%`}
          data-testid="volume"
        />
      </label>
    </div>
  );
}
