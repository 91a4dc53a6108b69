import { useController } from '../store/controller';
import type { Theme } from '../store/state';
import { useAppState } from '../store/store';

const NEXT: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };
const LABEL: Record<Theme, string> = { system: 'Auto', light: 'Light', dark: 'Dark' };
const ICON: Record<Theme, string> = { system: '◐', light: '☀', dark: '☾' };

export function ThemeToggle() {
  const c = useController();
  const theme = useAppState((s) => s.theme);
  return (
    <button
      type="button"
      className="btn btn--ghost btn--small theme-toggle"
      onClick={() => c.setTheme(NEXT[theme])}
      aria-label={`Theme: ${LABEL[theme]}. Switch to ${LABEL[NEXT[theme]]}`}
      title={`Theme: ${LABEL[theme]}`}
      data-testid="theme-toggle"
      data-theme={theme}
    >
      <span aria-hidden="true">{ICON[theme]}</span> <span className="theme-toggle__label">{LABEL[theme]}</span>
    </button>
  );
}
