import { useEffect, useState, type FormEvent } from 'react';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import { MoodPad } from './MoodPad';

export const MOOD_TEXT_ID = 'mood-text';

export function MoodPanel() {
  const c = useController();
  const moods = useAppState((s) => s.moods);
  const mood = useAppState((s) => s.mood);
  const pending = useAppState((s) => s.moodPending);
  const error = useAppState((s) => s.moodError);
  const [text, setText] = useState('');

  useEffect(() => {
    if (mood?.text && !mood.preset) setText(mood.text);
  }, [mood?.text, mood?.preset]);

  const preset = moods.find((m) => m.id === mood?.preset);
  const energy = mood?.energy ?? preset?.energy ?? 0.5;
  const valence = mood?.valence ?? preset?.valence ?? 0.5;

  const submitText = (e: FormEvent) => {
    e.preventDefault();
    const t = text.trim();
    if (t) c.setMood({ text: t });
  };

  return (
    <section className="panel mood" aria-labelledby="mood-heading" data-testid="mood-panel">
      <div className="panel__head">
        <h2 id="mood-heading">Mood</h2>
        <span className="current-mood" data-testid="current-mood" aria-live="polite">
          {mood ? mood.label : 'No mood set'}
          {pending && <span className="muted small"> · updating…</span>}
        </span>
      </div>
      <div className="chips" role="group" aria-label="Mood presets">
        {moods.map((m) => (
          <button
            key={m.id}
            type="button"
            className="chip"
            aria-pressed={mood?.preset === m.id}
            title={m.description}
            data-testid={`mood-chip-${m.id}`}
            onClick={() => c.setMood({ mood: m.id })}
          >
            {m.label}
          </button>
        ))}
        {moods.length === 0 && <span className="muted small">Loading moods…</span>}
      </div>
      <form className="mood-text" onSubmit={submitText} role="search" aria-label="Describe a mood">
        <label htmlFor={MOOD_TEXT_ID} className="visually-hidden">
          Describe your mood in your own words
        </label>
        <input
          id={MOOD_TEXT_ID}
          type="text"
          value={text}
          maxLength={200}
          placeholder="Describe a mood, e.g. rainy sunday morning  ( / )"
          onChange={(e) => {
            setText(e.target.value);
            if (error) c.clearMoodError();
          }}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'mood-error' : undefined}
          data-testid="mood-text"
        />
        <button type="submit" className="btn" disabled={!text.trim()} data-testid="mood-text-submit">
          Set
        </button>
      </form>
      {error && (
        <p id="mood-error" className="field-error mood-error" role="alert" data-testid="mood-error">
          {error}
        </p>
      )}
      <MoodPad
        energy={energy}
        valence={valence}
        onCommit={(p) =>
          c.setMood({
            ...(mood?.preset ? { mood: mood.preset } : mood?.text ? { text: mood.text } : {}),
            energy: p.energy,
            valence: p.valence,
          })
        }
      />
    </section>
  );
}
