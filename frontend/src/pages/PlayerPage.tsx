import { MixPanel } from '../components/MixPanel';
import { MoodPanel } from '../components/MoodPanel';
import { NowPlaying } from '../components/NowPlaying';
import { Queue } from '../components/Queue';

export function PlayerPage() {
  return (
    <main className="player" id="main" data-testid="player-page">
      <h1 className="visually-hidden">Player</h1>
      <div className="player__col player__col--main">
        <NowPlaying />
        <MoodPanel />
      </div>
      <div className="player__col">
        <Queue />
        <MixPanel />
      </div>
    </main>
  );
}
