#!/usr/bin/env node
// A small in-memory stand-in for the musicrec backend, for trying the player and its
// end-to-end tests without the Python stack. It follows shared/CONTRACT.md closely
// enough for the UI (auth + cookie, moods, queue over /ws with MessagePack, feedback,
// acks, history, quick mix, MIDI/WAV media with Range). Not a reference implementation.
//
//   node e2e/mock-backend.mjs [--port 8080] [--dist dist]
//   POST /__mock/restart   drops every socket (1012) and refuses upgrades for a moment
import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import midiPkg from '@tonejs/midi';
import { WebSocketServer } from 'ws';

const { Midi } = midiPkg;
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const PORT = Number(args.port ?? process.env.PORT ?? 8080);
const DIST = resolve(args.dist ?? 'dist');

// --- catalogue ------------------------------------------------------------------
const MOODS = [
  ['focus', 'Focus', 0.45, 0.5], ['chill', 'Chill', 0.3, 0.6], ['happy', 'Happy', 0.7, 0.9],
  ['sad', 'Sad', 0.25, 0.15], ['energetic', 'Energetic', 0.9, 0.7], ['workout', 'Workout', 0.95, 0.6],
  ['party', 'Party', 0.85, 0.85], ['romantic', 'Romantic', 0.4, 0.75], ['sleep', 'Sleep', 0.1, 0.4],
  ['melancholy', 'Melancholy', 0.3, 0.25], ['road_trip', 'Road trip', 0.7, 0.75], ['rainy_day', 'Rainy day', 0.3, 0.4],
].map(([id, label, energy, valence]) => ({ id, label, description: `Music for a ${label.toLowerCase()} mood`, energy, valence }));

let seed = 7;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const GENRES = ['pop', 'rock', 'jazz', 'electronic', 'folk', 'classical', 'hip hop', 'ambient'];
const WORDS = ['Blue', 'Night', 'River', 'Neon', 'Paper', 'Golden', 'Quiet', 'Static', 'Summer', 'Glass', 'Echo', 'Velvet'];
const TRACKS = Array.from({ length: 80 }, (_, i) => {
  const id = i + 1;
  const kind = id % 9 === 0 ? 'none' : id % 7 === 0 ? 'audio' : 'midi';
  return {
    id,
    title: `${WORDS[Math.floor(rnd() * WORDS.length)]} ${WORDS[Math.floor(rnd() * WORDS.length)]}`,
    artists: [`Artist ${1 + Math.floor(rnd() * 20)}`],
    album: rnd() < 0.8 ? `Album ${1 + Math.floor(rnd() * 30)}` : null,
    genre: [GENRES[Math.floor(rnd() * GENRES.length)]],
    year: 1960 + Math.floor(rnd() * 65),
    duration_ms: kind === 'none' ? 20_000 : 12_000,
    explicit: rnd() < 0.1,
    popularity: Math.round(rnd() * 100),
    audio: { energy: +rnd().toFixed(2), valence: +rnd().toFixed(2), danceability: +rnd().toFixed(2), tempo: Math.round(70 + rnd() * 100), acousticness: +rnd().toFixed(2) },
    media: { kind, url: kind === 'none' ? null : `/api/tracks/${id}/media` },
  };
});
const byId = new Map(TRACKS.map((t) => [t.id, t]));

function midiFor(track) {
  const midi = new Midi();
  midi.header.setTempo(track.audio.tempo);
  const lead = midi.addTrack();
  const scale = track.audio.valence > 0.5 ? [60, 62, 64, 67, 69, 72] : [57, 60, 62, 63, 67, 69];
  const beat = 60 / track.audio.tempo;
  for (let i = 0; i * beat < 11; i++) {
    lead.addNote({ midi: scale[(i * 5 + track.id) % scale.length], time: i * beat, duration: beat * 0.9, velocity: 0.7 });
    if (i % 4 === 0) lead.addNote({ midi: scale[0] - 12, time: i * beat, duration: beat * 3.5, velocity: 0.6 });
  }
  const drums = midi.addTrack();
  drums.channel = 9;
  for (let i = 0; i * beat < 11; i++) {
    drums.addNote({ midi: i % 2 ? 38 : 36, time: i * beat, duration: 0.1, velocity: 0.8 });
    drums.addNote({ midi: 42, time: i * beat + beat / 2, duration: 0.05, velocity: 0.5 });
  }
  return Buffer.from(midi.toArray());
}

function wavFor(track, seconds = 12, rate = 8000) {
  const n = seconds * rate;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  const f = 220 + (track.id % 12) * 20;
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * f * i) / rate) * 6000 * (1 - (i % rate) / rate)), 44 + i * 2);
  return buf;
}

// --- state ------------------------------------------------------------------------
const users = new Map(); // username -> {id, username, password}
const sessions = new Map(); // token -> user id
const people = new Map(); // user id -> {mood, nowPlaying, queue, events, sockets, seq, log}
const failures = new Map(); // username -> [timestamps]
let nextUserId = 1;
let nextEventId = 1;
let refusingUntil = 0;

function personFor(userId) {
  if (!people.has(userId)) {
    people.set(userId, { mood: null, nowPlaying: null, queue: [], events: [], sockets: new Set(), seq: 0, log: [], refs: new Set() });
  }
  return people.get(userId);
}

function score(track, mood) {
  const e = mood?.energy ?? 0.5;
  const v = mood?.valence ?? 0.5;
  return 1 - Math.hypot(track.audio.energy - e, track.audio.valence - v) / Math.SQRT2;
}

function rank(p, { limit = 20, genre, explicit, yearMin, yearMax, exclude = new Set() } = {}) {
  const disliked = new Set(p.events.filter((e) => e.action === 'dislike' || e.action === 'skip').map((e) => e.track_id));
  return TRACKS.filter((t) => !exclude.has(t.id) && !disliked.has(t.id))
    .filter((t) => (!genre || t.genre.includes(genre)) && (explicit !== false || !t.explicit))
    .filter((t) => (!yearMin || t.year >= yearMin) && (!yearMax || t.year <= yearMax))
    .map((t) => ({ ...t, score: +score(t, p.mood).toFixed(3), reason: `fits your ${p.mood?.label ?? 'taste'} (energy ${t.audio.energy}, valence ${t.audio.valence})` }))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, limit);
}

function rebuild(p, { advance = false } = {}) {
  if (advance || !p.nowPlaying) {
    const exclude = new Set(p.nowPlaying ? [p.nowPlaying.id] : []);
    p.nowPlaying = rank(p, { limit: 1, exclude })[0] ?? null;
  }
  p.queue = rank(p, { limit: 10, exclude: new Set([p.nowPlaying?.id]) });
}

function send(ws, frame) {
  if (ws.readyState === 1) ws.send(ws.useJson ? JSON.stringify(frame) : encode(frame));
}

function pushQueue(p, reason) {
  p.seq += 1;
  const frame = { type: 'queue', seq: p.seq, now_playing: p.nowPlaying, tracks: p.queue, mood: p.mood, reason };
  p.log.push(frame);
  if (p.log.length > 50) p.log.shift();
  for (const ws of p.sockets) send(ws, frame);
}

function setMood(p, body) {
  const preset = body.mood ? MOODS.find((m) => m.id === body.mood) : null;
  if (body.mood && !preset) return { code: 'validation_error', message: `Unknown mood "${body.mood}".` };
  if (!preset && !body.text && body.energy === undefined) return { code: 'validation_error', message: 'Give a mood id or some text.' };
  p.mood = {
    preset: preset?.id ?? null,
    text: body.text ?? null,
    energy: body.energy ?? preset?.energy ?? 0.5,
    valence: body.valence ?? preset?.valence ?? 0.5,
    label: preset?.label ?? (body.text ? `“${body.text}”` : 'Custom'),
    updated_at: new Date().toISOString(),
  };
  rebuild(p, { advance: !p.nowPlaying });
  pushQueue(p, `mood set to ${p.mood.label}`);
  return null;
}

function feedback(p, body) {
  const track = byId.get(Number(body.track_id));
  if (!track || !['play', 'complete', 'skip', 'like', 'dislike'].includes(body.action)) {
    return { code: 'validation_error', message: 'Unknown track or action.' };
  }
  p.events.push({ id: nextEventId++, track_id: track.id, action: body.action, at: new Date().toISOString(), position_ms: body.position_ms ?? null });
  const advance = ['skip', 'complete', 'dislike'].includes(body.action) && p.nowPlaying?.id === track.id;
  if (advance || body.action === 'like') {
    rebuild(p, { advance });
    pushQueue(p, `after your ${body.action}`);
  }
  return null;
}

// --- HTTP -------------------------------------------------------------------------
const json = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
};
const fail = (res, status, code, message, headers) => json(res, status, { error: { code, message } }, headers);

function cookieUser(req) {
  const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '');
  const uid = m ? sessions.get(m[1]) : undefined;
  return uid ? [...users.values()].find((u) => u.id === uid) : undefined;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  if (!chunks.length) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

function login(res, user, status) {
  const token = randomBytes(18).toString('hex');
  sessions.set(token, user.id);
  json(res, status, { user: { id: user.id, username: user.username } }, { 'Set-Cookie': `session=${token}; Path=/; HttpOnly; SameSite=Lax` });
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

async function serveStatic(req, res, path) {
  let file = normalize(join(DIST, path));
  if (!file.startsWith(DIST)) return fail(res, 404, 'not_found', 'No such file.');
  try {
    if (!(await stat(file)).isFile()) throw new Error('dir');
  } catch {
    file = join(DIST, 'index.html');
  }
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  } catch {
    res.writeHead(404).end('build the frontend first (npm run build)');
  }
}

function serveMedia(req, res, track) {
  if (!track || track.media.kind === 'none') return fail(res, 404, 'not_found', 'This track has no media.');
  const data = track.media.kind === 'midi' ? midiFor(track) : wavFor(track);
  const type = track.media.kind === 'midi' ? 'audio/midi' : 'audio/wav';
  const range = /bytes=(\d*)-(\d*)/.exec(req.headers.range ?? '');
  if (range) {
    const start = range[1] ? Number(range[1]) : 0;
    const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
    res.writeHead(206, { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Range': `bytes ${start}-${end}/${data.length}`, 'Content-Length': end - start + 1 });
    return res.end(data.subarray(start, end + 1));
  }
  res.writeHead(200, { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': data.length });
  res.end(data);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const m = req.method;
  if (path === '/__mock/restart' && m === 'POST') {
    refusingUntil = Date.now() + 1500;
    for (const p of people.values()) for (const ws of p.sockets) ws.close(1012, 'restart');
    setTimeout(() => json(res, 200, { restarted: true }), 1600);
    return;
  }
  if (!path.startsWith('/api/')) return serveStatic(req, res, path);
  const b = m === 'POST' || m === 'PUT' ? await body(req) : {};
  if (b === null) return fail(res, 400, 'bad_request', 'The body is not valid JSON.');
  if (path === '/api/health') return json(res, 200, { postgres: 'ok', redis: 'ok', qdrant: 'ok' });
  if (path === '/api/moods') return json(res, 200, { moods: MOODS });
  if (path === '/api/auth/register' && m === 'POST') {
    if (typeof b.username !== 'string' || !/^[A-Za-z0-9_.-]{3,32}$/.test(b.username)) return fail(res, 422, 'validation_error', 'Usernames are 3 to 32 letters, digits, dots, dashes or underscores.');
    if (typeof b.password !== 'string' || b.password.length < 8) return fail(res, 422, 'validation_error', 'Passwords need at least 8 characters.');
    if (users.has(b.username.toLowerCase())) return fail(res, 409, 'username_taken', 'That username is taken.');
    const user = { id: nextUserId++, username: b.username, password: b.password };
    users.set(b.username.toLowerCase(), user);
    return login(res, user, 201);
  }
  if (path === '/api/auth/login' && m === 'POST') {
    const key = String(b.username ?? '').toLowerCase();
    const recent = (failures.get(key) ?? []).filter((t) => Date.now() - t < 60_000);
    if (recent.length >= 5) return fail(res, 429, 'rate_limited', 'Too many failed logins. Try again later.', { 'Retry-After': '60' });
    const user = users.get(key);
    if (!user || user.password !== b.password) {
      failures.set(key, [...recent, Date.now()]);
      return fail(res, 401, 'invalid_credentials', 'Wrong username or password.');
    }
    return login(res, user, 200);
  }
  const user = cookieUser(req);
  if (!user) return fail(res, 401, 'not_authenticated', 'Log in first.');
  const p = personFor(user.id);
  if (path === '/api/auth/logout' && m === 'POST') {
    const token = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    sessions.delete(token);
    for (const ws of p.sockets) ws.close(4401, 'logged out');
    res.writeHead(204, { 'Set-Cookie': 'session=; Path=/; Max-Age=0' }).end();
    return;
  }
  if (path === '/api/me' && m === 'GET') return json(res, 200, { user: { id: user.id, username: user.username }, mood: p.mood });
  if (path === '/api/me/mood' && m === 'PUT') {
    const err = setMood(p, b);
    return err ? fail(res, 422, err.code, err.message) : json(res, 200, { mood: p.mood });
  }
  if (path === '/api/feedback' && m === 'POST') {
    const err = feedback(p, b);
    return err ? fail(res, 422, err.code, err.message) : json(res, 202, { accepted: true });
  }
  const filters = (src) => ({
    genre: src.genre || undefined,
    explicit: src.explicit === undefined ? undefined : src.explicit === true || src.explicit === 'true',
    yearMin: src.year_min ? Number(src.year_min) : undefined,
    yearMax: src.year_max ? Number(src.year_max) : undefined,
  });
  if (path === '/api/recommendations' && m === 'GET') {
    const q = Object.fromEntries(url.searchParams);
    return json(res, 200, { tracks: rank(p, { limit: Number(q.limit ?? 20), ...filters(q) }), explanation: `Closest to ${p.mood?.label ?? 'a neutral mood'}.` });
  }
  if (path === '/api/quickmix' && m === 'POST') {
    const tracks = rank(p, { limit: Math.min(100, Math.max(10, b.size ?? 20)), ...filters(b) });
    return json(res, 200, { mix_id: randomUUID(), tracks, cached: false });
  }
  if (path === '/api/history' && m === 'GET') {
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 50));
    const before = Number(url.searchParams.get('before') ?? Infinity);
    const page = p.events.filter((e) => e.id < before).sort((a, c) => c.id - a.id).slice(0, limit);
    const next = page.length === limit ? page[page.length - 1].id : null;
    return json(res, 200, { events: page.map((e) => ({ id: e.id, track: byId.get(e.track_id), action: e.action, at: e.at, position_ms: e.position_ms })), next_before: next });
  }
  const media = /^\/api\/tracks\/(\d+)\/media$/.exec(path);
  if (media) return serveMedia(req, res, byId.get(Number(media[1])));
  const one = /^\/api\/tracks\/(\d+)$/.exec(path);
  if (one) return byId.has(Number(one[1])) ? json(res, 200, byId.get(Number(one[1]))) : fail(res, 404, 'not_found', 'No such track.');
  return fail(res, 404, 'not_found', 'No such endpoint.');
});

// --- WebSocket --------------------------------------------------------------------
const wss = new WebSocketServer({ noServer: true, maxPayload: 65536 });
server.on('upgrade', (req, socket, head) => {
  const user = cookieUser(req);
  if (new URL(req.url, 'http://x').pathname !== '/ws' || Date.now() < refusingUntil || !user) {
    socket.write(`HTTP/1.1 ${!user ? '401 Unauthorized' : '503 Service Unavailable'}\r\n\r\n`);
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const p = personFor(user.id);
    let hello = false;
    ws.on('message', (data, isBinary) => {
      let f;
      try {
        f = isBinary ? decode(data) : JSON.parse(String(data));
        ws.useJson = !isBinary;
      } catch {
        return send(ws, { type: 'error', code: 'bad_frame', message: 'Undecodable frame.' });
      }
      if (!hello) {
        if (f.type !== 'hello') return send(ws, { type: 'error', code: 'bad_frame', message: 'Say hello first.' });
        hello = true;
        p.sockets.add(ws);
        send(ws, { type: 'welcome', seq: p.seq, user: { id: user.id, username: user.username } });
        if (!p.nowPlaying && p.mood) rebuild(p);
        const resume = typeof f.resume_after === 'number' ? p.log.filter((q) => q.seq > f.resume_after) : [];
        if (resume.length) for (const q of resume) send(ws, q);
        else send(ws, { type: 'queue', seq: p.seq, now_playing: p.nowPlaying, tracks: p.queue, mood: p.mood, reason: 'hello' });
        return;
      }
      const ack = () => {
        if (typeof f.ref === 'string') send(ws, { type: 'ack', seq: p.seq, ref: f.ref });
      };
      if (typeof f.ref === 'string' && p.refs.has(f.ref)) return ack(); // duplicate resend
      let err = null;
      switch (f.type) {
        case 'ping':
          return send(ws, { type: 'pong', seq: p.seq });
        case 'mood':
          err = setMood(p, f);
          break;
        case 'feedback':
          err = feedback(p, f);
          break;
        case 'next':
          rebuild(p, { advance: true });
          pushQueue(p, 'next');
          break;
        default:
          err = { code: 'bad_frame', message: `Unknown frame type "${f.type}".` };
      }
      if (err) return send(ws, { type: 'error', ...err });
      if (typeof f.ref === 'string') p.refs.add(f.ref);
      ack();
    });
    ws.on('close', () => p.sockets.delete(ws));
  });
});

server.listen(PORT, '127.0.0.1', () => console.log(`mock backend on http://127.0.0.1:${PORT} serving ${DIST}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
