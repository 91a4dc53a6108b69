import { CatalogNotice } from '../components/CatalogNotice';
import { GroupPanel } from '../components/GroupPanel';
import { MixPanel } from '../components/MixPanel';
import { MoodPanel } from '../components/MoodPanel';
import { NowPlaying } from '../components/NowPlaying';
import { Queue } from '../components/Queue';
import { SearchPanel } from '../components/SearchPanel';
import { SettingsPanel } from '../components/SettingsPanel';
import { SimilarPanel } from '../components/SimilarPanel';
import { useAppState } from '../store/store';

export function PlayerPage() {
  // In a group, the group (who is here, skip votes) sits right under what plays; otherwise
  // starting or joining one comes after the mood, which a listener picks first.
  const inGroup = useAppState((s) => s.group.group !== null);
  return (
    <main className="player" id="main" data-testid="player-page">
      <h1 className="visually-hidden">Player</h1>
      <div className="player__notice">
        <CatalogNotice />
      </div>
      <div className="player__col player__col--main">
        <NowPlaying />
        {inGroup && <GroupPanel />}
        <MoodPanel />
        {!inGroup && <GroupPanel />}
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
