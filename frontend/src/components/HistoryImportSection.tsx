import { useRef, useState, type FormEvent } from 'react';
import { formatBytes } from '../lib/format';
import { useController } from '../store/controller';
import { importBusy } from '../store/historyImportState';
import { useAppState } from '../store/store';
import type { ListensFormat } from '../types';
import { HistoryImportReport } from './HistoryImportReport';

export const HISTORY_SECTION_ID = 'your-history';

const FORMAT_CHOICES: Array<{ value: ListensFormat | ''; label: string }> = [
  { value: '', label: 'Detect automatically' },
  { value: 'listenbrainz', label: 'ListenBrainz (JSON or JSONL)' },
  { value: 'lastfm', label: 'Last.fm scrobbles (CSV)' },
  { value: 'spotify_extended', label: 'Spotify extended history (Streaming_History_Audio_*.json)' },
  { value: 'spotify_account', label: 'Spotify account data (StreamingHistory*.json)' },
];

/** "Bring your history": upload a listening-history export; its listens teach the recommendations. */
export function HistoryImportSection() {
  const c = useController();
  const state = useAppState((s) => s.historyImport);
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<ListensFormat | ''>('');
  const busy = importBusy(state);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file || busy) return;
    await c.historyImport.upload(file, format || null);
    // Done: ready for the next file. After a failure the file stays picked, to try again.
    if (c.store.getState().historyImport.status !== 'done') return;
    setFile(null);
    if (input.current) input.current.value = '';
  };

  const percent = state.total > 0 ? Math.round((100 * state.sent) / state.total) : 0;
  return (
    <section id={HISTORY_SECTION_ID} className="library-section history-import" aria-labelledby="history-import-heading" data-testid="history-import">
      <h3 id="history-import-heading">Bring your history</h3>
      <p className="small muted">
        Upload what you listened to elsewhere: a ListenBrainz export, a Last.fm scrobble CSV, or your Spotify history
        (the <code>StreamingHistory*.json</code> or <code>Streaming_History_Audio_*.json</code> files, or the zip Spotify
        sends). Listens of songs in this catalog join your history and steer your recommendations; uploading the same
        file again adds nothing.
      </p>
      <form className="form library-form" onSubmit={submit} aria-label="Upload a listening history" aria-busy={busy || undefined} data-testid="history-import-form">
        <label>
          Export file
          <input
            ref={input}
            type="file"
            accept=".json,.jsonl,.csv,.zip,application/json,text/csv,application/zip"
            disabled={busy}
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            data-testid="history-file"
          />
        </label>
        <label>
          Format
          <select value={format} disabled={busy} onChange={(e) => setFormat(e.target.value as ListensFormat | '')} data-testid="history-format">
            {FORMAT_CHOICES.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <div className="row">
          <button type="submit" className="btn btn--primary" disabled={!file || busy} data-testid="history-upload">
            {busy ? 'Uploading…' : 'Upload'}
          </button>
          {state.status === 'sending' && (
            <button type="button" className="btn" onClick={() => c.historyImport.cancel()} data-testid="history-cancel">
              Cancel
            </button>
          )}
        </div>
      </form>
      {state.status === 'sending' && (
        <div className="library__progress" role="status" data-testid="history-progress" data-percent={percent}>
          <progress max={state.total || 1} value={state.sent} aria-label={`Uploading ${state.fileName}`} />
          <span className="small">
            Uploading {state.fileName}: {formatBytes(state.sent)} of {formatBytes(state.total)} ({percent}%)
          </span>
        </div>
      )}
      {state.status === 'importing' && (
        <p className="small" role="status" data-testid="history-importing">
          Uploaded. Matching the listens of {state.fileName} with the catalog…
        </p>
      )}
      {state.status === 'failed' && state.error && (
        <div className="field-error" role="alert" data-testid="history-error" data-code={state.error.code} data-status={state.error.status}>
          <strong>{state.error.title}</strong>
          {state.error.detail && <span className="library-form__detail"> {state.error.detail}</span>}
        </div>
      )}
      {state.status === 'done' && state.report && <HistoryImportReport report={state.report} onClose={() => c.historyImport.clear()} />}
    </section>
  );
}
