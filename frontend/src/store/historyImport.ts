// "Bring your history": upload a listening-history export (ListenBrainz, Last.fm, Spotify, or
// the zip Spotify sends) to POST /api/me/listens with progress, then keep the server's report.
// One upload at a time; a failure says what went wrong in words. The server stores nothing
// from a file it refuses, so trying again is always safe (the same file twice adds nothing).
import { ApiError } from '../api/client';
import { ABORTED_CODE } from '../api/upload';
import { formatBytes } from '../lib/format';
import type { ListensFormat } from '../types';
import type { Host } from './host';
import { importBusy, type HistoryImportError } from './historyImportState';

/** The default of the server's `listens_upload_max_bytes` (docs/api.md). */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 64 * 1024 * 1024;

const FORMATS_HINT =
  'It takes ListenBrainz exports (JSON or JSONL), Last.fm scrobble CSVs, and Spotify histories: ' +
  'StreamingHistory*.json, Streaming_History_Audio_*.json, or the zip Spotify sends.';

/** The server's message as a sentence: one full stop at its end. */
function sentence(message: string): string {
  return `${message.trim().replace(/\.+$/, '')}.`;
}

/** The failure in words for the listener. */
export function describeImportError(err: unknown, size: number): HistoryImportError {
  if (!(err instanceof ApiError)) {
    return { code: 'unknown', status: 0, title: 'The upload failed.', detail: (err as Error)?.message ?? null };
  }
  const base = { code: err.code, status: err.status };
  switch (err.status === 413 ? 'payload_too_large' : err.code) {
    case 'payload_too_large':
      return {
        ...base,
        title: 'This file is too big for the server.',
        detail: `It is ${formatBytes(size)}; this server takes uploads up to its limit (${formatBytes(DEFAULT_UPLOAD_LIMIT_BYTES)} unless its administrator changed it). Split the history, or upload the files of a Spotify zip one by one.`,
      };
    case 'unreadable_history':
      return { ...base, title: 'This file could not be read as a listening history.', detail: `${sentence(err.message)} ${FORMATS_HINT}` };
    case 'not_a_user_history':
      return { ...base, title: 'This is not a personal listening history.', detail: err.message };
    case 'bad_format':
      return { ...base, title: 'The server does not know that format.', detail: `${sentence(err.message)} Choose “Detect automatically” and try again.` };
    case 'missing_file':
      return { ...base, title: 'No file reached the server.', detail: err.message };
    case 'network_error':
      return {
        ...base,
        title: 'The upload was cut off.',
        detail:
          size > DEFAULT_UPLOAD_LIMIT_BYTES
            ? `The file is ${formatBytes(size)}: the server may have refused it as too big. Check your connection, or try a smaller file.`
            : err.message,
      };
    case ABORTED_CODE:
      return { ...base, title: 'Upload cancelled.', detail: 'Nothing was imported.' };
    default:
      return { ...base, title: 'The import failed.', detail: err.message };
  }
}

export class HistoryImportController {
  private abort: AbortController | null = null;

  constructor(private readonly host: Host) {}

  /** Upload `file` (its name helps the server tell formats apart); resolves once it ended, either way. */
  async upload(file: File, format: ListensFormat | null = null): Promise<void> {
    const { dispatch, getState } = this.host.store;
    if (importBusy(getState().historyImport)) return;
    if (file.size === 0) {
      dispatch({ type: 'historyImport/started', fileName: file.name, size: 0 });
      dispatch({
        type: 'historyImport/failed',
        error: { code: 'empty_file', status: 0, title: 'This file is empty.', detail: 'Pick the export file itself.' },
      });
      return;
    }
    const abort = new AbortController();
    this.abort = abort;
    dispatch({ type: 'historyImport/started', fileName: file.name, size: file.size });
    try {
      const { report } = await this.host.api.importListens(file, file.name, format, {
        signal: abort.signal,
        onProgress: ({ loaded, total }) => dispatch({ type: 'historyImport/progress', sent: loaded, total }),
        onSent: () => dispatch({ type: 'historyImport/sent' }),
      });
      if (this.abort !== abort) return; // reset (logged out) meanwhile
      dispatch({ type: 'historyImport/done', report });
    } catch (err) {
      if (this.abort !== abort) return;
      if (err instanceof ApiError && err.status === 401) return; // the login page takes over
      dispatch({ type: 'historyImport/failed', error: describeImportError(err, file.size) });
    } finally {
      if (this.abort === abort) this.abort = null;
    }
  }

  /** Stop the upload while it is being sent (nothing is stored from a body that never arrived whole). */
  cancel(): void {
    if (this.host.store.getState().historyImport.status === 'sending') this.abort?.abort();
  }

  /** Logged out: drop the upload under way without a word. */
  reset(): void {
    const abort = this.abort;
    this.abort = null;
    abort?.abort();
  }

  /** Forget the last report or error (the form is shown again). */
  clear(): void {
    if (importBusy(this.host.store.getState().historyImport)) return;
    this.host.store.dispatch({ type: 'historyImport/cleared' });
  }

  dispose(): void {
    this.reset();
  }
}
