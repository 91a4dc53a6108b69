import { useId } from 'react';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';

const YEAR_MIN = 1900;
const YEAR_MAX = new Date().getFullYear() + 1;

function parseYear(v: string): number | null {
  if (!v.trim()) return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= YEAR_MIN && n <= YEAR_MAX ? n : null;
}

/** Filters for Quick Mix and Discover (the live queue follows the mood alone). */
export function Filters() {
  const c = useController();
  const f = useAppState((s) => s.filters);
  const genres = useAppState((s) => s.queue);
  const id = useId();
  const known = [...new Set(genres.flatMap((t) => t.genre ?? []))].sort();
  const badRange = f.yearMin !== null && f.yearMax !== null && f.yearMin > f.yearMax;

  return (
    <fieldset className="filters" data-testid="filters">
      <legend>Filters</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={f.allowExplicit}
          onChange={(e) => c.setFilters({ allowExplicit: e.target.checked })}
          data-testid="filter-explicit"
        />
        Allow explicit
      </label>
      <label>
        Genre
        <input
          type="text"
          list={`${id}-genres`}
          value={f.genre}
          placeholder="any"
          onChange={(e) => c.setFilters({ genre: e.target.value })}
          data-testid="filter-genre"
        />
        <datalist id={`${id}-genres`}>
          {known.map((g) => (
            <option key={g} value={g} />
          ))}
        </datalist>
      </label>
      <label>
        From year
        <input
          type="number"
          inputMode="numeric"
          min={YEAR_MIN}
          max={YEAR_MAX}
          value={f.yearMin ?? ''}
          placeholder="any"
          onChange={(e) => c.setFilters({ yearMin: parseYear(e.target.value) })}
          aria-invalid={badRange || undefined}
          data-testid="filter-year-min"
        />
      </label>
      <label>
        To year
        <input
          type="number"
          inputMode="numeric"
          min={YEAR_MIN}
          max={YEAR_MAX}
          value={f.yearMax ?? ''}
          placeholder="any"
          onChange={(e) => c.setFilters({ yearMax: parseYear(e.target.value) })}
          aria-invalid={badRange || undefined}
          data-testid="filter-year-max"
        />
      </label>
      {badRange && (
        <p className="field-error small" role="alert">
          “From year” is after “To year”.
        </p>
      )}
    </fieldset>
  );
}
