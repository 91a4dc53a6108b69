// Small persisted preferences (theme, volume, filters) in localStorage.
import type { Filters } from '../types';
import { defaultFilters, type Theme } from './state';

const KEY = 'musicrec.prefs';

export interface Prefs {
  theme: Theme;
  volume: number;
  filters: Filters;
}

export function safeStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function loadPrefs(storage: Storage | null = safeStorage()): Prefs {
  const fallback: Prefs = { theme: 'system', volume: 0.8, filters: defaultFilters };
  if (!storage) return fallback;
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? '{}') as Partial<Prefs>;
    return {
      theme: raw.theme === 'light' || raw.theme === 'dark' ? raw.theme : 'system',
      volume: typeof raw.volume === 'number' && raw.volume >= 0 && raw.volume <= 1 ? raw.volume : 0.8,
      filters: { ...defaultFilters, ...(raw.filters ?? {}) },
    };
  } catch {
    return fallback;
  }
}

export function savePrefs(prefs: Prefs, storage: Storage | null = safeStorage()): void {
  try {
    storage?.setItem(KEY, JSON.stringify(prefs));
  } catch {
    /* ignore */
  }
}
