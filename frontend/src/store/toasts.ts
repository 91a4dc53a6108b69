// Short messages for the listener: shown at once, gone by themselves after a while (errors
// stay longer), or when dismissed.
import type { Store } from './store';

export const TOAST_MS = { info: 5000, error: 8000 } as const;

let toastSeq = 0;

export class Toasts {
  constructor(private readonly store: Store) {}

  show(message: string, kind: 'info' | 'error' = 'info'): void {
    const id = ++toastSeq;
    this.store.dispatch({ type: 'toast/add', toast: { id, kind, message } });
    setTimeout(() => this.store.dispatch({ type: 'toast/dismiss', id }), TOAST_MS[kind]);
  }

  dismiss(id: number): void {
    this.store.dispatch({ type: 'toast/dismiss', id });
  }
}
