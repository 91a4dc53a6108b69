import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';

interface Props {
  energy: number;
  valence: number;
  onCommit: (point: { energy: number; valence: number }) => void;
  /** Delay before arrow-key changes are committed (so holding a key sends one change). */
  keyCommitDelayMs?: number;
}

const STEP = 0.05;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const pct = (x: number) => `${Math.round(x * 100)}%`;

function describe(energy: number, valence: number): string {
  const e = energy < 0.34 ? 'calm' : energy < 0.67 ? 'moderate energy' : 'high energy';
  const v = valence < 0.34 ? 'dark' : valence < 0.67 ? 'neutral' : 'bright';
  return `${e}, ${v}`;
}

/**
 * A 2-D mood pad: valence along x (left sad/dark, right happy/bright) and energy along
 * y (bottom calm, top intense). Pointer drag or arrow keys (Shift for bigger steps,
 * Home/End/PageUp/PageDown for the edges).
 */
export function MoodPad({ energy, valence, onCommit, keyCommitDelayMs = 500 }: Props) {
  const [point, setPoint] = useState({ energy, valence });
  const dragging = useRef(false);
  const padRef = useRef<HTMLDivElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pointRef = useRef(point);
  pointRef.current = point;

  // Follow the server's mood unless the listener is mid-gesture.
  useEffect(() => {
    if (!dragging.current && !timer.current) setPoint({ energy, valence });
  }, [energy, valence]);

  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const fromPointer = useCallback((e: PointerEvent<HTMLDivElement>) => {
    const rect = padRef.current!.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return pointRef.current;
    return {
      valence: clamp01((e.clientX - rect.left) / rect.width),
      energy: clamp01(1 - (e.clientY - rect.top) / rect.height),
    };
  }, []);

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== undefined && e.button !== 0) return;
    dragging.current = true;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    setPoint(fromPointer(e));
    padRef.current?.querySelector<HTMLElement>('[role="slider"]')?.focus();
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (dragging.current) setPoint(fromPointer(e));
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    if (!dragging.current) return;
    dragging.current = false;
    const p = fromPointer(e);
    setPoint(p);
    onCommit(p);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? STEP * 2 : STEP;
    let { energy: en, valence: va } = pointRef.current;
    switch (e.key) {
      case 'ArrowUp': en += step; break;
      case 'ArrowDown': en -= step; break;
      case 'ArrowRight': va += step; break;
      case 'ArrowLeft': va -= step; break;
      case 'PageUp': en = 1; break;
      case 'PageDown': en = 0; break;
      case 'Home': va = 0; break;
      case 'End': va = 1; break;
      case 'Enter':
        e.preventDefault();
        if (timer.current) clearTimeout(timer.current);
        timer.current = null;
        onCommit(pointRef.current);
        return;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
    const next = { energy: Math.round(clamp01(en) * 100) / 100, valence: Math.round(clamp01(va) * 100) / 100 };
    setPoint(next);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      onCommit(next);
    }, keyCommitDelayMs);
  };

  return (
    <div className="mood-pad-wrap" data-testid="mood-pad-wrap">
      <div
        ref={padRef}
        className="mood-pad"
        data-testid="mood-pad"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (dragging.current = false)}
      >
        <span className="mood-pad__axis mood-pad__axis--top" aria-hidden="true">intense</span>
        <span className="mood-pad__axis mood-pad__axis--bottom" aria-hidden="true">calm</span>
        <span className="mood-pad__axis mood-pad__axis--left" aria-hidden="true">dark</span>
        <span className="mood-pad__axis mood-pad__axis--right" aria-hidden="true">bright</span>
        <div
          className="mood-pad__thumb"
          role="slider"
          tabIndex={0}
          aria-label="Mood: energy and valence"
          aria-roledescription="2D slider"
          aria-orientation="horizontal"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(point.valence * 100)}
          aria-valuetext={`Energy ${pct(point.energy)}, valence ${pct(point.valence)}: ${describe(point.energy, point.valence)}`}
          aria-describedby="mood-pad-help"
          data-testid="mood-pad-thumb"
          data-energy={point.energy.toFixed(2)}
          data-valence={point.valence.toFixed(2)}
          style={{ left: pct(point.valence), top: pct(1 - point.energy) }}
          onKeyDown={onKeyDown}
        />
      </div>
      <p id="mood-pad-help" className="small muted">
        Energy {pct(point.energy)} · valence {pct(point.valence)}. Drag, or use the arrow keys: up/down for energy,
        left/right for valence.
      </p>
    </div>
  );
}
