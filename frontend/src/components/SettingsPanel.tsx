import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import { HistoryImportSection } from './HistoryImportSection';
import { LibrarySection } from './LibrarySection';

/** Listener settings kept on the server (every device and tab follows them), their music libraries, and their imported history. */
export function SettingsPanel() {
  const c = useController();
  const settings = useAppState((s) => s.library.settings);
  const unavailable = settings.status === 'unavailable';
  return (
    <section className="panel settings" aria-labelledby="settings-heading" data-testid="settings-panel">
      <div className="panel__head">
        <h2 id="settings-heading">Settings</h2>
        {settings.status === 'saving' && <span className="muted small">Saving…</span>}
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={settings.includeUnplayable}
          disabled={unavailable || settings.status === 'unknown' || settings.status === 'saving'}
          onChange={(e) => void c.library.setIncludeUnplayable(e.target.checked)}
          aria-describedby="include-unplayable-hint"
          data-testid="setting-include-unplayable"
        />
        Include tracks that can't play here
      </label>
      <p id="include-unplayable-hint" className="small muted">
        {unavailable
          ? 'This server does not keep settings.'
          : 'They show an “Open in Spotify” link, and the player passes over them.'}
      </p>
      <LibrarySection />
      <HistoryImportSection />
    </section>
  );
}
