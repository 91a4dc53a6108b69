import type { ListensReport } from '../types';

const MATCH_LABELS: Array<[keyof ListensReport['matched'], string]> = [
  ['uri', 'by Spotify track'],
  ['title', 'by artist and title'],
  ['artist', 'by artist only'],
];

/** How many examples of each kind the report shows (the server sends up to ten). */
const EXAMPLES_SHOWN = 5;

const n = (x: number | undefined | null) => (typeof x === 'number' && Number.isFinite(x) ? x : 0).toLocaleString('en');

function Count({ label, value, testId }: { label: string; value: number | undefined; testId: string }) {
  return (
    <div className="history-report__count">
      <dt>{label}</dt>
      <dd data-testid={testId}>{n(value)}</dd>
    </div>
  );
}

function Reasons({ reasons, testId }: { reasons: Record<string, number>; testId: string }) {
  const entries = Object.entries(reasons ?? {});
  if (!entries.length) return null;
  return (
    <ul className="history-report__reasons small" data-testid={testId}>
      {entries.map(([reason, count]) => (
        <li key={reason} data-reason={reason}>
          {n(count)} × {reason}
        </li>
      ))}
    </ul>
  );
}

/** What the server did with an uploaded history: stored, already there, matched how, left out why. */
export function HistoryImportReport({ report, onClose }: { report: ListensReport; onClose: () => void }) {
  const skipped = report.skipped ?? { total: 0, reasons: {}, examples: [] };
  const unmatched = report.unmatched ?? { total: 0, reasons: {}, examples: [] };
  const formats = report.formats?.length ? ` (${report.formats.join(', ')})` : '';
  const headline =
    report.stored > 0
      ? `${n(report.stored)} listens added to your history.`
      : report.duplicates > 0
        ? 'Nothing new: these listens were already in your history.'
        : 'No listens could be added.';
  return (
    <div className="history-report" role="status" data-testid="history-report" data-stored={report.stored} data-duplicates={report.duplicates}>
      <p className="history-report__headline">
        <strong>{headline}</strong>
      </p>
      <p className="small muted" data-testid="history-report-source">
        From {report.source}
        {formats}: {n(report.rows)} rows read, {n(report.listens)} listens, in {(report.seconds ?? 0).toFixed(1)} s.
      </p>
      <dl className="history-report__counts">
        <Count label="Stored" value={report.stored} testId="history-stored" />
        <Count label="Already there" value={report.duplicates} testId="history-duplicates" />
        {MATCH_LABELS.map(([kind, label]) => (
          <Count key={kind} label={`Matched ${label}`} value={report.matched?.[kind]} testId={`history-matched-${kind}`} />
        ))}
        <Count label="Skipped rows" value={skipped.total} testId="history-skipped" />
        <Count label="Not in the catalog" value={unmatched.total} testId="history-unmatched" />
      </dl>
      {skipped.total > 0 && (
        <details className="history-report__details" data-testid="history-skipped-details">
          <summary>Why rows were skipped</summary>
          <Reasons reasons={skipped.reasons} testId="history-skipped-reasons" />
          {skipped.examples.length > 0 && (
            <ul className="small muted" data-testid="history-skipped-examples">
              {skipped.examples.slice(0, EXAMPLES_SHOWN).map((e, i) => (
                <li key={i}>
                  Row {n(e.row)}: {e.reason}
                </li>
              ))}
            </ul>
          )}
        </details>
      )}
      {unmatched.total > 0 && (
        <details className="history-report__details" data-testid="history-unmatched-details">
          <summary>Listens not in this catalog</summary>
          <Reasons reasons={unmatched.reasons} testId="history-unmatched-reasons" />
          {unmatched.examples.length > 0 && (
            <ul className="small muted" data-testid="history-unmatched-examples">
              {unmatched.examples.slice(0, EXAMPLES_SHOWN).map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          )}
        </details>
      )}
      <button type="button" className="btn btn--small btn--ghost" onClick={onClose} data-testid="history-report-close">
        Upload another file
      </button>
    </div>
  );
}
