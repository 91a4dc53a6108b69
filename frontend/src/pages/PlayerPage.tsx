import { CatalogNotice } from '../components/CatalogNotice';
import { GroupPanel } from '../components/GroupPanel';
import { MixPanel } from '../components/MixPanel';
import { MoodPanel } from '../components/MoodPanel';
import { NowPlaying } from '../components/NowPlaying';
import { Queue } from '../components/Queue';
import { SearchPanel } from '../components/SearchPanel';
import { SettingsPanel } from '../components/SettingsPanel';
import { SimilarPanel } from '../components/SimilarPanel';

export function PlayerPage() {
  return (
    <main className="player" id="main" data-testid="player-page">
      <h1 className="visually-hidden">Player</h1>
      <div className="player__notice">
        <CatalogNotice />
      </div>
      <div className="player__col player__col--main">
        <NowPlaying />
        <GroupPanel />
        <MoodPanel />
        <SettingsPanel />
      </div>
      <div className="player__col">
        <SearchPanel />
        <SimilarPanel />
        <Queue />
        <MixPanel />
      </div>
    </main>
  );
}
