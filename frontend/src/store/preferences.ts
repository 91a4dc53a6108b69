// The listener's preferences kept in this browser (theme, volume, filters): restored at boot,
// saved on each change. The volume reaches the engine through playback.ts; the theme is
// applied to the page here (a `data-theme` on <html>; none means follow the system).
import type { Filters } from '../types';
import { loadPrefs, savePrefs, type Prefs } from './prefs';
import type { Theme } from './state';
import type { Store } from './store';

export class Preferences {
  constructor(
    private readonly store: Store,
    private readonly storage: Storage | null,
  ) {}

  /** Put the saved preferences into the store and apply the theme; returns them. */
  restore(): Prefs {
    const prefs = loadPrefs(this.storage);
    this.store.dispatch({ type: 'theme/set', theme: prefs.theme });
    this.store.dispatch({ type: 'playback/volume', volume: prefs.volume });
    this.store.dispatch({ type: 'filters/set', filters: prefs.filters });
    applyTheme(prefs.theme);
    return prefs;
  }

  setFilters(filters: Partial<Filters>): void {
    this.store.dispatch({ type: 'filters/set', filters });
    this.save();
  }

  setTheme(theme: Theme): void {
    this.store.dispatch({ type: 'theme/set', theme });
    applyTheme(theme);
    this.save();
  }

  /** Save what the store holds now (after a volume, theme or filter change). */
  save(): void {
    const s = this.store.getState();
    savePrefs({ theme: s.theme, volume: s.playback.volume, filters: s.filters }, this.storage);
  }
}

function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
