// "Bring your history": one listening-history upload at a time, from the file picked to the
// server's report. State and reducer, composed into the app reducer. The file itself is never
// put in the store (only its name and size).
import type { ListensReport } from '../types';

/** Why an upload failed, in words: a title, and the server's own message or a hint. */
export interface HistoryImportError {
  code: string;
  /** The HTTP status (0: no answer). */
  status: number;
  title: string;
  detail: string | null;
}

export interface HistoryImportState {
  /** 'sending': bytes going up; 'importing': all sent, the server reads and matches them. */
  status: 'idle' | 'sending' | 'importing' | 'done' | 'failed';
  fileName: string | null;
  /** Upload progress in bytes (of the request: a little more than the file). */
  sent: number;
  total: number;
  report: ListensReport | null;
  error: HistoryImportError | null;
}

export type HistoryImportAction =
  | { type: 'historyImport/started'; fileName: string; size: number }
  | { type: 'historyImport/progress'; sent: number; total: number }
  | { type: 'historyImport/sent' }
  | { type: 'historyImport/done'; report: ListensReport }
  | { type: 'historyImport/failed'; error: HistoryImportError }
  | { type: 'historyImport/cleared' };

export const initialHistoryImport: HistoryImportState = {
  status: 'idle',
  fileName: null,
  sent: 0,
  total: 0,
  report: null,
  error: null,
};

export function historyImportReducer(state: HistoryImportState, action: HistoryImportAction): HistoryImportState {
  switch (action.type) {
    case 'historyImport/started':
      return { ...initialHistoryImport, status: 'sending', fileName: action.fileName, total: action.size };
    case 'historyImport/progress':
      if (state.status !== 'sending') return state;
      return { ...state, sent: Math.min(action.sent, action.total), total: action.total };
    case 'historyImport/sent':
      if (state.status !== 'sending') return state;
      return { ...state, status: 'importing', sent: state.total };
    case 'historyImport/done':
      return { ...state, status: 'done', report: action.report, error: null };
    case 'historyImport/failed':
      return { ...state, status: 'failed', report: null, error: action.error };
    case 'historyImport/cleared':
      return initialHistoryImport;
    default:
      return state;
  }
}

/** Whether an upload is under way (the form waits). */
export function importBusy(state: HistoryImportState): boolean {
  return state.status === 'sending' || state.status === 'importing';
}
