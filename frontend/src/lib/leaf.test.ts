// lib/ is a leaf: small helpers any layer may use, which use nothing of the app's own but its
// types (never store/, components/, pages/, groups/, sync/, audio/, api/ or ws/).
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob(['./*.ts', './*.tsx', '!./*.test.ts', '!./*.test.tsx'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

/** Every module specifier a source imports or re-exports from. */
function importsOf(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
  const bare = [...source.matchAll(/import\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
  const dynamic = [...source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
  return [...specifiers, ...bare, ...dynamic];
}

describe('lib/', () => {
  it('has modules to check', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(3);
  });

  it.each(Object.entries(sources))('%s imports only packages, lib/ and the shared types', (_name, source) => {
    const outside = importsOf(source).filter((s) => s.startsWith('.') && !s.startsWith('./') && s !== '../types');
    expect(outside).toEqual([]);
  });

  it('the check sees an import from store/ when there is one', () => {
    expect(importsOf("import type { Controller } from '../store/controller';\nimport { x } from './format';")).toEqual([
      '../store/controller',
      './format',
    ]);
  });
});
