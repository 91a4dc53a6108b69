// Keyboard shortcuts for the player. A leaf: it knows the actions by this interface only
// (the Controller has them all).
import { useEffect } from 'react';

/** What the shortcuts do. */
export interface ShortcutActions {
  togglePlay(): void;
  next(): void;
  previous(): void;
  like(): void;
  dislike(): void;
}

function isTyping(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button', 'submit'].includes(type);
  }
  return false;
}

/** Space play/pause, n skip, p previous, l like (again: unlike), d dislike, / the mood box, s the search box. */
export function useShortcuts(c: ShortcutActions, moodInputId: string, enabled = true, searchInputId = 'track-search'): void {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const target = e.target as HTMLElement | null;
      switch (e.key) {
        case ' ':
        case 'Spacebar':
          // Space on a focused button/slider belongs to that control.
          if (target && target.closest('button, a, [role="slider"], [role="tab"], input')) return;
          e.preventDefault();
          if (!e.repeat) c.togglePlay();
          break;
        case 'n':
        case 'N':
          if (!e.repeat) c.next();
          break;
        case 'p':
        case 'P':
          if (!e.repeat) c.previous();
          break;
        case 's':
        case 'S': {
          const input = document.getElementById(searchInputId);
          if (input) {
            e.preventDefault();
            input.focus();
          }
          break;
        }
        case 'l':
        case 'L':
          if (!e.repeat) c.like();
          break;
        case 'd':
        case 'D':
          if (!e.repeat) c.dislike();
          break;
        case '/': {
          const input = document.getElementById(moodInputId);
          if (input) {
            e.preventDefault();
            input.focus();
          }
          break;
        }
        default:
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [c, moodInputId, enabled, searchInputId]);
}
