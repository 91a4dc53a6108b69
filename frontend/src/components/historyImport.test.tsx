import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { UploadOptions } from '../api/upload';
import { describeImportError } from '../store/historyImport';
import { renderWithApp } from '../test/render';
import type { ListensReport } from '../types';
import { HistoryImportSection } from './HistoryImportSection';
import { SettingsPanel } from './SettingsPanel';

function makeReport(over: Partial<ListensReport> = {}): ListensReport {
  return {
    source: 'Streaming_History_Audio_2023.json',
    formats: ['spotify_extended'],
    rows: 120,
    listens: 112,
    matched: { uri: 70, title: 20, artist: 5 },
    stored: 95,
    duplicates: 0,
    skipped: {
      total: 8,
      reasons: { 'missing ts': 5, 'podcast episode': 3 },
      examples: [
        { row: 4, reason: 'missing ts' },
        { row: 9, reason: 'podcast episode' },
      ],
    },
    unmatched: {
      total: 17,
      reasons: { 'artist not in the catalog': 17 },
      examples: ['Obscure Band – Deep Cut: artist not in the catalog'],
    },
    seconds: 1.234,
    ...over,
  };
}

/** An importListens stub whose answer the test gives, and whose progress callbacks it drives. */
function pendingImport() {
  let resolve!: (v: { report: ListensReport }) => void;
  let reject!: (e: unknown) => void;
  let opts: UploadOptions = {};
  const importListens = vi.fn((_file: Blob, _name: string, _format: string | null, o: UploadOptions) => {
    opts = o;
    return new Promise<{ report: ListensReport }>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  });
  return {
    importListens,
    progress: (loaded: number, total: number) => act(() => opts.onProgress?.({ loaded, total })),
    sent: () => act(() => opts.onSent?.()),
    signal: () => opts.signal,
    answer: (report: ListensReport) => act(async () => resolve({ report })),
    fail: (err: unknown) => act(async () => reject(err)),
  };
}

const fileOf = (name: string, text = '{"listened_at": 1, "track_metadata": {}}\n') => new File([text], name, { type: 'application/json' });

async function pick(user: ReturnType<typeof userEvent.setup>, file: File) {
  await user.upload(screen.getByTestId('history-file'), file);
}

describe('bring your history', () => {
  it('sits in the settings next to "Your music library"', async () => {
    renderWithApp(<SettingsPanel />, {}, { libraries: vi.fn().mockResolvedValue({ libraries: [] }), importListens: vi.fn() });
    await waitFor(() => expect(screen.getByTestId('library-empty')).toBeInTheDocument());
    const panel = screen.getByTestId('settings-panel');
    expect(within(panel).getByTestId('library-section')).toBeInTheDocument();
    expect(within(panel).getByRole('heading', { name: 'Bring your history' })).toBeInTheDocument();
  });

  it('uploads the picked file with progress, then shows the report', async () => {
    const user = userEvent.setup();
    const upload = pendingImport();
    const { store } = renderWithApp(<HistoryImportSection />, {}, { importListens: upload.importListens });
    expect(screen.getByTestId('history-upload')).toBeDisabled();
    const file = fileOf('Streaming_History_Audio_2023.json');
    await pick(user, file);
    await user.click(screen.getByTestId('history-upload'));
    expect(upload.importListens).toHaveBeenCalledWith(file, 'Streaming_History_Audio_2023.json', null, expect.anything());

    await upload.progress(500, 2000);
    const progress = screen.getByTestId('history-progress');
    expect(progress).toHaveAttribute('data-percent', '25');
    expect(progress).toHaveTextContent('Uploading Streaming_History_Audio_2023.json: 500 bytes of 2 KiB (25%)');
    expect(within(progress).getByRole('progressbar')).toHaveAttribute('value', '500');
    expect(screen.getByTestId('history-upload')).toBeDisabled();
    expect(screen.getByTestId('history-cancel')).toBeInTheDocument();

    await upload.progress(2000, 2000);
    await upload.sent();
    expect(screen.queryByTestId('history-progress')).toBeNull();
    expect(screen.getByTestId('history-importing')).toHaveTextContent('Matching the listens of Streaming_History_Audio_2023.json');
    expect(screen.queryByTestId('history-cancel')).toBeNull(); // the server has it: no take-back now

    await upload.answer(makeReport());
    const report = screen.getByTestId('history-report');
    expect(report).toHaveTextContent('95 listens added to your history.');
    expect(screen.getByTestId('history-report-source')).toHaveTextContent(
      'From Streaming_History_Audio_2023.json (spotify_extended): 120 rows read, 112 listens, in 1.2 s.',
    );
    expect(screen.getByTestId('history-stored')).toHaveTextContent('95');
    expect(screen.getByTestId('history-duplicates')).toHaveTextContent('0');
    expect(screen.getByTestId('history-matched-uri')).toHaveTextContent('70');
    expect(screen.getByTestId('history-matched-title')).toHaveTextContent('20');
    expect(screen.getByTestId('history-matched-artist')).toHaveTextContent('5');
    expect(screen.getByTestId('history-skipped')).toHaveTextContent('8');
    expect(screen.getByTestId('history-unmatched')).toHaveTextContent('17');
    expect(screen.getByTestId('history-skipped-reasons')).toHaveTextContent('5 × missing ts');
    expect(screen.getByTestId('history-skipped-reasons')).toHaveTextContent('3 × podcast episode');
    expect(screen.getByTestId('history-skipped-examples')).toHaveTextContent('Row 4: missing ts');
    expect(screen.getByTestId('history-unmatched-reasons')).toHaveTextContent('17 × artist not in the catalog');
    expect(screen.getByTestId('history-unmatched-examples')).toHaveTextContent('Obscure Band – Deep Cut: artist not in the catalog');
    // The form is ready for the next file; the file itself never entered the store.
    expect(screen.getByTestId('history-file')).toHaveValue('');
    expect(store.getState().historyImport).toMatchObject({ status: 'done', fileName: 'Streaming_History_Audio_2023.json' });

    await user.click(screen.getByTestId('history-report-close'));
    expect(screen.queryByTestId('history-report')).toBeNull();
  });

  it('sends the chosen format', async () => {
    const user = userEvent.setup();
    const importListens = vi.fn().mockResolvedValue({ report: makeReport({ formats: ['lastfm'] }) });
    renderWithApp(<HistoryImportSection />, {}, { importListens });
    await pick(user, new File(['uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n'], 'scrobbles.csv', { type: 'text/csv' }));
    await user.selectOptions(screen.getByTestId('history-format'), 'lastfm');
    await user.click(screen.getByTestId('history-upload'));
    expect(importListens).toHaveBeenCalledWith(expect.any(File), 'scrobbles.csv', 'lastfm', expect.anything());
    await waitFor(() => expect(screen.getByTestId('history-report')).toBeInTheDocument());
  });

  it('says so when the same file adds nothing new', async () => {
    const user = userEvent.setup();
    const importListens = vi.fn().mockResolvedValue({
      report: makeReport({ stored: 0, duplicates: 95, skipped: { total: 0, reasons: {}, examples: [] }, unmatched: { total: 0, reasons: {}, examples: [] } }),
    });
    renderWithApp(<HistoryImportSection />, {}, { importListens });
    await pick(user, fileOf('listens.jsonl'));
    await user.click(screen.getByTestId('history-upload'));
    await waitFor(() => expect(screen.getByTestId('history-report')).toHaveTextContent('Nothing new: these listens were already in your history.'));
    expect(screen.getByTestId('history-duplicates')).toHaveTextContent('95');
    expect(screen.queryByTestId('history-skipped-details')).toBeNull();
    expect(screen.queryByTestId('history-unmatched-details')).toBeNull();
  });

  it.each([
    [413, 'payload_too_large', 'the request body is too large', 'This file is too big for the server.', 'up to its limit (64 MiB'],
    [422, 'unreadable_history', 'not a known listening-history export', 'This file could not be read as a listening history.', 'not a known listening-history export. It takes ListenBrainz exports'],
    [422, 'not_a_user_history', 'HetRec data is public data', 'This is not a personal listening history.', 'HetRec data is public data'],
    [400, 'bad_format', 'format must be one of listenbrainz, lastfm', 'The server does not know that format.', 'Detect automatically'],
    [400, 'missing_file', "send the export as the multipart part named 'file'", 'No file reached the server.', "multipart part named 'file'"],
  ])('a %i %s is told in words', async (status, code, message, title, detail) => {
    const user = userEvent.setup();
    const upload = pendingImport();
    const { store } = renderWithApp(<HistoryImportSection />, {}, { importListens: upload.importListens });
    await pick(user, fileOf('listens.json'));
    await user.click(screen.getByTestId('history-upload'));
    await upload.fail(new ApiError(status, code, message));
    const error = screen.getByTestId('history-error');
    expect(error).toHaveAttribute('data-code', code);
    expect(error).toHaveAttribute('data-status', String(status));
    expect(error).toHaveTextContent(title);
    expect(error).toHaveTextContent(detail);
    expect(screen.queryByTestId('history-report')).toBeNull();
    expect(store.getState().historyImport.status).toBe('failed');
    // The file stays picked: trying again is one click.
    expect(screen.getByTestId('history-upload')).toBeEnabled();
    await user.click(screen.getByTestId('history-upload'));
    expect(upload.importListens).toHaveBeenCalledTimes(2);
    expect(screen.queryByTestId('history-error')).toBeNull();
  });

  it('a cut-off connection on a file over the limit suggests the size', async () => {
    const user = userEvent.setup();
    const upload = pendingImport();
    renderWithApp(<HistoryImportSection />, {}, { importListens: upload.importListens });
    const big = fileOf('huge.zip');
    Object.defineProperty(big, 'size', { value: 80 * 1024 * 1024 });
    await pick(user, big);
    await user.click(screen.getByTestId('history-upload'));
    await upload.fail(new ApiError(0, 'network_error', 'Cannot reach the server.'));
    expect(screen.getByTestId('history-error')).toHaveTextContent('The upload was cut off.');
    expect(screen.getByTestId('history-error')).toHaveTextContent('The file is 80 MiB: the server may have refused it as too big.');
  });

  it('an empty file is refused before anything is sent', async () => {
    const user = userEvent.setup();
    const importListens = vi.fn();
    renderWithApp(<HistoryImportSection />, {}, { importListens });
    await pick(user, new File([], 'empty.json'));
    await user.click(screen.getByTestId('history-upload'));
    expect(importListens).not.toHaveBeenCalled();
    expect(screen.getByTestId('history-error')).toHaveTextContent('This file is empty.');
  });

  it('cancel stops the upload while it is being sent', async () => {
    const user = userEvent.setup();
    const upload = pendingImport();
    renderWithApp(<HistoryImportSection />, {}, { importListens: upload.importListens });
    await pick(user, fileOf('listens.json'));
    await user.click(screen.getByTestId('history-upload'));
    await upload.progress(10, 100);
    expect(upload.signal()?.aborted).toBe(false);
    await user.click(screen.getByTestId('history-cancel'));
    expect(upload.signal()?.aborted).toBe(true);
    await upload.fail(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    expect(screen.getByTestId('history-error')).toHaveTextContent('Upload cancelled. Nothing was imported.');
  });

  it("ends the server's message with one full stop before the hint", () => {
    const error = describeImportError(new ApiError(422, 'unreadable_history', 'a.json: not a known export.'), 10);
    expect(error.detail).toMatch(/^a\.json: not a known export\. It takes ListenBrainz exports/);
  });
});
