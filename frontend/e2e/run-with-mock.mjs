#!/usr/bin/env node
// Runs the browser tests against the in-memory mock backend (serving dist/):
//   npm run build && npm run e2e:mock
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const port = await new Promise((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => ok(p));
  });
});
const base = `http://127.0.0.1:${port}`;
const mock = spawn(process.execPath, ['e2e/mock-backend.mjs', '--port', String(port), '--dist', 'dist'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`${base}/api/health`)).ok) break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
const restart = `${JSON.stringify(process.execPath)} -e "fetch('${base}/__mock/restart',{method:'POST'}).then(r=>process.exit(r.ok?0:1))"`;
const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', 'e2e/'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, E2E_BASE_URL: base, E2E_RESTART_CMD: process.env.E2E_RESTART_CMD ?? restart },
});
tests.on('exit', (code) => {
  mock.kill('SIGTERM');
  process.exit(code ?? 1);
});
