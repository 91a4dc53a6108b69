// The frontend container's server (port 3000): the built player with the same cache and
// SPA rules as the nginx edge, and /api + /ws passed to BACKEND_URL so that the player also
// works when reached directly (debugging; production traffic goes through nginx and TLS).
// No dependencies: node's standard library only.
//
//   DIST_DIR     the build (default /app/dist)
//   HOST, PORT   where to listen (default 0.0.0.0:3000)
//   BACKEND_URL  http://host:port of a backend; unset = no proxy (404 for /api and /ws)

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(process.env.DIST_DIR ?? '/app/dist');
const host = process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 3000);
const backend = process.env.BACKEND_URL ? new URL(process.env.BACKEND_URL) : null;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.mid': 'audio/midi',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

function securityHeaders(req) {
  const hostHeader = req.headers.host ?? '';
  return {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self' blob:; style-src 'self' 'unsafe-inline'; " +
      "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; " +
      `connect-src 'self' ws://${hostHeader} wss://${hostHeader}; worker-src 'self' blob:; ` +
      "object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
  };
}

async function fileAt(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const full = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  if (full !== root && !full.startsWith(root + path.sep)) return null;
  try {
    const info = await stat(full);
    return info.isFile() ? { full, info } : null;
  } catch {
    return null;
  }
}

function send(req, res, status, headers, file) {
  res.writeHead(status, { ...securityHeaders(req), ...headers });
  if (req.method === 'HEAD' || !file) return res.end();
  createReadStream(file).pipe(res);
}

async function serveStatic(req, res) {
  const urlPath = new URL(req.url, 'http://x').pathname;
  if (urlPath === '/healthz') {
    return send(req, res, 200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(req, res, 405, { Allow: 'GET, HEAD' });
  }
  const isAsset = urlPath.startsWith('/assets/');
  let found = urlPath.endsWith('/') ? null : await fileAt(urlPath);
  if (!found && isAsset) return send(req, res, 404, { 'Content-Type': 'text/plain' });
  if (!found) found = await fileAt('/index.html'); // the single-page app handles the route
  if (!found) return send(req, res, 404, { 'Content-Type': 'text/plain' });
  send(req, res, 200, {
    'Content-Type': TYPES[path.extname(found.full)] ?? 'application/octet-stream',
    'Content-Length': found.info.size,
    'Cache-Control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
  }, found.full);
}

function forwardedHeaders(req) {
  const peer = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  return {
    ...req.headers,
    'x-real-ip': peer,
    'x-forwarded-for': prior ? `${prior}, ${peer}` : peer,
    'x-forwarded-proto': 'http',
  };
}

function proxy(req, res) {
  const upstream = http.request({
    host: backend.hostname,
    port: backend.port || 80,
    method: req.method,
    path: req.url,
    headers: forwardedHeaders(req),
  }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    if (res.headersSent) return res.destroy();
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end('{"error": {"code": "backend_unavailable", "message": "the service is unavailable"}}\n');
  });
  req.pipe(upstream);
}

function isBackendPath(url) {
  return url === '/ws' || url.startsWith('/ws?') || url.startsWith('/api/');
}

const server = http.createServer((req, res) => {
  if (backend && isBackendPath(req.url ?? '/')) return proxy(req, res);
  serveStatic(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

// WebSocket: replay the upgrade request to the backend and splice the two sockets.
server.on('upgrade', (req, socket, head) => {
  if (!backend || !isBackendPath(req.url ?? '/')) return socket.destroy();
  const upstream = net.connect(Number(backend.port || 80), backend.hostname, () => {
    const headers = forwardedHeaders(req);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    socket.destroy();
    upstream.destroy();
  };
  upstream.on('error', close);
  socket.on('error', close);
  upstream.on('close', close);
  socket.on('close', close);
});

server.listen(port, host, () => {
  console.log(`serving ${root} on http://${host}:${port}` + (backend ? `, /api and /ws -> ${backend.origin}` : ''));
});

// Nothing to flush: stop at once (as PID 1 in a container, node needs these handlers).
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
