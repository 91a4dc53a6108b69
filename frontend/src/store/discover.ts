// Quick Mix (played locally, in its order) and Discover (recommendations to browse).
import type { Host } from './host';

export class DiscoverController {
  constructor(private readonly host: Host) {}

  async quickMix(): Promise<void> {
    const { dispatch, getState } = this.host.store;
    const s = getState();
    dispatch({ type: 'mix/loading' });
    const seeds = [
      ...(s.nowPlaying ? [s.nowPlaying.id] : []),
      ...Object.entries(s.ratings)
        .filter(([, r]) => r === 'like')
        .map(([id]) => Number(id)),
    ];
    try {
      const r = await this.host.api.quickmix(
        {
          mood: s.mood?.preset ?? undefined,
          text: s.mood?.preset ? undefined : (s.mood?.text ?? undefined),
          seed_track_ids: seeds.length ? [...new Set(seeds)].slice(0, 5) : undefined,
          size: 20,
        },
        s.filters,
      );
      dispatch({ type: 'mix/loaded', id: r.mix_id, tracks: r.tracks ?? [], cached: !!r.cached });
    } catch (err) {
      dispatch({ type: 'mix/failed', error: (err as Error).message });
    }
  }

  playMix(index = 0): void {
    const { dispatch, getState } = this.host.store;
    const s = getState();
    if (!s.mix.tracks[index]) return;
    this.host.engine.unlock();
    dispatch({ type: 'source/set', source: { kind: 'mix', index } });
    dispatch({ type: 'playback/wantsToPlay', value: true });
  }

  backToQueue(): void {
    const { dispatch } = this.host.store;
    dispatch({ type: 'source/set', source: { kind: 'queue' } });
  }

  async loadRecommendations(): Promise<void> {
    const { dispatch, getState } = this.host.store;
    const s = getState();
    dispatch({ type: 'reco/loading' });
    try {
      const r = await this.host.api.recommendations(
        {
          limit: 20,
          mood: s.mood?.preset ?? undefined,
          text: s.mood?.preset ? undefined : (s.mood?.text ?? undefined),
        },
        s.filters,
      );
      dispatch({ type: 'reco/loaded', tracks: r.tracks ?? [], explanation: r.explanation ?? null });
    } catch (err) {
      dispatch({ type: 'reco/failed', error: (err as Error).message });
    }
  }
}
