import { useController } from '../store/controller';
import { useAppState } from '../store/store';

export function Toasts() {
  const c = useController();
  const toasts = useAppState((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast--${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <span>{t.message}</span>
          <button type="button" className="toast__close" onClick={() => c.dismissToast(t.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
