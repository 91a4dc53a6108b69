import { useEffect, useState } from 'react';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

export function ConnectionBadge() {
  const c = useController();
  const conn = useAppState((s) => s.connection);
  const pending = useAppState((s) => s.outboxSize);
  const now = useNow(conn.status === 'reconnecting');

  let label: string;
  let tone: 'live' | 'warn' | 'down';
  switch (conn.status) {
    case 'live':
      label = 'Live';
      tone = 'live';
      break;
    case 'connecting':
      label = conn.attempt > 0 ? 'Reconnecting…' : 'Connecting…';
      tone = 'warn';
      break;
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil((conn.retryAt - now) / 1000));
      label = `Reconnecting in ${secs} s (try ${conn.attempt})`;
      tone = 'warn';
      break;
    }
    case 'failed':
      label = 'Disconnected';
      tone = 'down';
      break;
    default:
      label = 'Offline';
      tone = 'down';
  }
  const canRetry = conn.status === 'reconnecting' || conn.status === 'failed' || conn.status === 'offline';

  return (
    <div className={`conn conn--${tone}`} data-testid="connection-status" data-status={conn.status} role="status" aria-live="polite">
      <span className="conn__dot" aria-hidden="true" />
      <span className="conn__label">{label}</span>
      {pending > 0 && (
        <span className="conn__pending" data-testid="outbox-pending" title="Actions waiting to be confirmed by the server">
          {pending} unsent
        </span>
      )}
      {canRetry && (
        <button type="button" className="btn btn--small btn--ghost" onClick={() => c.retryConnection()} data-testid="reconnect-now">
          Retry
        </button>
      )}
    </div>
  );
}
