// Generated cover art: an SVG derived deterministically from a track's audio profile.
//   valence      -> colour temperature (cool blues when sad, warm oranges when happy)
//   energy       -> saturation, contrast and line weight
//   tempo        -> how many shapes
//   acousticness -> soft round shapes (acoustic) vs. hard polygons (electronic)
//   danceability -> a wave band across the cover
// Missing values fall back to numbers derived from the track id, so every track differs.
import type { Track } from '../types';

export interface CoverProfile {
  energy: number;
  valence: number;
  tempo: number;
  acousticness: number;
  danceability: number;
}

function hash(n: number | string): number {
  let h = 2166136261;
  const s = String(n);
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** mulberry32: a tiny seeded PRNG, so the same track always gets the same picture. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function coverProfile(track: Pick<Track, 'id' | 'audio'>): CoverProfile {
  const rnd = prng(hash(track.id));
  const a = track.audio ?? {};
  const pick = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? clamp01(v) : rnd());
  const tempo = typeof a.tempo === 'number' && a.tempo > 0 ? a.tempo : 70 + rnd() * 100;
  return {
    energy: pick(a.energy),
    valence: pick(a.valence),
    tempo,
    acousticness: pick(a.acousticness),
    danceability: pick(a.danceability),
  };
}

const f = (x: number) => x.toFixed(1);

export function coverSvg(track: Pick<Track, 'id' | 'audio'>, size = 256): string {
  const p = coverProfile(track);
  const rnd = prng(hash(`${track.id}:cover`));
  const hueA = (230 - p.valence * 190 + (rnd() - 0.5) * 70 + (p.danceability - 0.5) * 40 + 360) % 360;
  const hueB = (hueA + 30 + p.energy * 70 + clamp01((p.tempo - 60) / 120) * 60) % 360;
  const sat = Math.round(30 + p.energy * 60);
  const lightA = Math.round(22 + p.valence * 30);
  const lightB = Math.round(45 + p.valence * 25);
  const angle = Math.round(rnd() * 360);
  const count = 3 + Math.round(clamp01((p.tempo - 60) / 120) * 9);
  const soft = p.acousticness >= 0.5;
  const s = size;
  const shapes: string[] = [];
  for (let i = 0; i < count; i++) {
    const cx = rnd() * s;
    const cy = rnd() * s;
    const r = s * (0.06 + rnd() * (soft ? 0.28 : 0.2));
    const hue = (i % 2 ? hueB : hueA) + (rnd() - 0.5) * 40;
    const light = 50 + Math.round((rnd() - 0.3) * 30);
    const fill = `hsl(${Math.round(hue)} ${sat}% ${light}%)`;
    const opacity = (soft ? 0.25 : 0.45) + rnd() * 0.35;
    if (soft) {
      shapes.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r)}" fill="${fill}" fill-opacity="${opacity.toFixed(2)}"/>`);
    } else {
      const sides = 3 + Math.floor(rnd() * 3);
      const rot = rnd() * Math.PI * 2;
      const pts = Array.from({ length: sides }, (_, k) => {
        const t = rot + (k / sides) * Math.PI * 2;
        return `${f(cx + Math.cos(t) * r)},${f(cy + Math.sin(t) * r)}`;
      }).join(' ');
      shapes.push(`<polygon points="${pts}" fill="${fill}" fill-opacity="${opacity.toFixed(2)}"/>`);
    }
  }
  // Concentric rings: more and thicker with energy.
  const rings = 1 + Math.round(p.energy * 4);
  const ringW = (1 + p.energy * 4).toFixed(1);
  for (let i = 0; i < rings; i++) {
    shapes.push(
      `<circle cx="${f(s * 0.5)}" cy="${f(s * 0.5)}" r="${f(s * (0.12 + i * 0.08))}" fill="none" stroke="hsl(${Math.round(hueB)} ${sat}% 85%)" stroke-opacity="${(0.15 + p.energy * 0.3).toFixed(2)}" stroke-width="${ringW}"/>`,
    );
  }
  // A wave band whose amplitude follows danceability.
  const amp = s * (0.02 + p.danceability * 0.1);
  const waves = 2 + Math.round(p.danceability * 4);
  const y0 = s * (0.6 + rnd() * 0.25);
  let d = `M0 ${f(y0)}`;
  for (let i = 1; i <= waves * 2; i++) {
    const x = (i / (waves * 2)) * s;
    d += ` Q${f(x - s / (waves * 4))} ${f(y0 + (i % 2 ? -amp : amp) * 2)} ${f(x)} ${f(y0)}`;
  }
  shapes.push(`<path d="${d}" fill="none" stroke="hsl(${Math.round(hueA)} 90% 92%)" stroke-opacity="0.6" stroke-width="${f(2 + p.energy * 3)}" stroke-linecap="round"/>`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${s} ${s}" width="${s}" height="${s}">` +
    `<defs><linearGradient id="g" gradientTransform="rotate(${angle} 0.5 0.5)">` +
    `<stop offset="0" stop-color="hsl(${Math.round(hueA)} ${sat}% ${lightA}%)"/>` +
    `<stop offset="1" stop-color="hsl(${Math.round(hueB)} ${sat}% ${lightB}%)"/></linearGradient></defs>` +
    `<rect width="${s}" height="${s}" fill="url(#g)"/>${shapes.join('')}</svg>`
  );
}

export function coverDataUrl(track: Pick<Track, 'id' | 'audio'>, size = 256): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(coverSvg(track, size))}`;
}
