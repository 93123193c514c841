#!/usr/bin/env node
// The ringcast gateway's behaviour on stock socket.io 4.8: the Node peer for benchmarks, and the
// known-correct server the e2e suite runs against (RINGCAST_E2E_TARGET=node) to test the tests.
//
//   node tests/clients/js/peers/gateway.js [--host 127.0.0.1] [--port 0] [--path /ws/ --path /socket.io/]
//       --jwt-secret SECRET --api-key KEY [--jwt-public-key-file F] [--jwt-algorithms HS256,RS256]
//       [--ping-interval-ms 25000] [--ping-timeout-ms 20000] [--connect-timeout-ms 45000]
//       [--redis-url redis://127.0.0.1:6379/]
//
// socket.io comes from tests/clients/js (scripts/install-test-deps); nothing else is needed.
// --redis-url makes this one node of a cluster through @socket.io/redis-adapter and the `redis`
// client, both loaded from the same directory as socket.io (the benchmark peer's pins them).
// Prints `ringcast listening on http://HOST:PORT` on stdout once it accepts.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { createRequire } = require('node:module');

// socket.io comes from tests/clients/js, or from the directory a wrapper names (the benchmark
// peer, benches/peers/node/server.js, runs this same file with its own pinned socket.io).
const requireClients = createRequire(path.resolve(process.env.RINGCAST_PEER_MODULES || path.join(__dirname, '..'), 'package.json'));
let Server;
try {
  ({ Server } = requireClients('socket.io'));
} catch (e) {
  console.error(`cannot load socket.io from tests/clients/js: run scripts/install-test-deps (${e.message})`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const a = {
    host: '127.0.0.1', port: 0, paths: [], msgpackPaths: [], jwtSecret: null, apiKey: null, publicKeyFile: null,
    algorithms: null, pingInterval: 25000, pingTimeout: 20000, connectTimeout: 45000, redisUrl: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--host': a.host = val(); break;
      case '--port': a.port = Number(val()); break;
      case '--listen': { const [h, p] = val().split(/:(?=[^:]*$)/); a.host = h; a.port = Number(p); break; }
      case '--path': a.paths.push(val()); break;
      case '--msgpack-path': a.msgpackPaths.push(val()); break;
      case '--jwt-secret': a.jwtSecret = val(); break;
      case '--api-key': a.apiKey = val(); break;
      case '--jwt-public-key-file': a.publicKeyFile = val(); break;
      case '--jwt-algorithms': a.algorithms = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--ping-interval-ms': a.pingInterval = Number(val()); break;
      case '--ping-timeout-ms': a.pingTimeout = Number(val()); break;
      case '--connect-timeout-ms': a.connectTimeout = Number(val()); break;
      case '--redis-url': a.redisUrl = val(); break;
      case '--workers': val(); break; // one event loop: accepted for command-line parity only
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  if (a.paths.length === 0) a.paths = ['/ws/', '/socket.io/'];
  if (!a.apiKey) throw new Error('--api-key is required');
  if (!a.algorithms) a.algorithms = a.publicKeyFile && !a.jwtSecret ? ['RS256'] : ['HS256'];
  for (const alg of a.algorithms) {
    if (alg === 'HS256' && !a.jwtSecret) throw new Error('HS256 needs --jwt-secret');
    if (alg === 'RS256' && !a.publicKeyFile) throw new Error('RS256 needs --jwt-public-key-file');
    if (alg !== 'HS256' && alg !== 'RS256') throw new Error(`unsupported algorithm ${alg}`);
  }
  return a;
}

const args = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`server.js: ${e.message}`);
    process.exit(2);
  }
})();
const publicKey = args.publicKeyFile ? crypto.createPublicKey(fs.readFileSync(args.publicKeyFile)) : null;

// ---------------------------------------------------------------------------------------------
// JWT (RFC 7519 over RFC 7515 compact JWS), the checks the gateway makes at CONNECT.

// Same default as the jsonwebtoken crate: 60 s of clock skew tolerated on `exp`.
const LEEWAY_S = 60;

class AuthError extends Error {}

function b64urlJson(part) {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AuthError('invalid token');
  }
}

function verifyJwt(token) {
  if (token === undefined || token === null || token === '') throw new AuthError('missing token');
  if (typeof token !== 'string') throw new AuthError('invalid token');
  const parts = token.split('.');
  if (parts.length !== 3) throw new AuthError('invalid token');
  const header = b64urlJson(parts[0]);
  if (!header || typeof header !== 'object' || typeof header.alg !== 'string') throw new AuthError('invalid token');
  if (!args.algorithms.includes(header.alg)) throw new AuthError('algorithm not allowed');
  const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  let ok;
  if (header.alg === 'HS256') {
    const mac = crypto.createHmac('sha256', args.jwtSecret).update(signingInput).digest();
    ok = mac.length === sig.length && crypto.timingSafeEqual(mac, sig);
  } else {
    ok = crypto.verify('RSA-SHA256', signingInput, publicKey, sig);
  }
  if (!ok) throw new AuthError('invalid signature');
  const claims = b64urlJson(parts[1]);
  if (!claims || typeof claims !== 'object') throw new AuthError('invalid token');
  if (typeof claims.exp !== 'number') throw new AuthError('invalid token');
  if (typeof claims.sub !== 'string') throw new AuthError('invalid token');
  if (claims.exp + LEEWAY_S < Date.now() / 1000) throw new AuthError('token expired');
  return claims;
}

// ---------------------------------------------------------------------------------------------
// Rooms and events of shared/spec/websocket-api.md

const ROOM_RE = /^(?:dashboard|(?:agent|task|conversation):[A-Za-z0-9._-]{1,128})$/;
// A user id: 1-128 printable ASCII, no space, '"' or '\\' (ringcast's gateway::user_room).
const USER_RE = /^[!#-[\]-~]{1,128}$/;

// event -> [required data fields, default rooms(data)]
const SERVER_EVENTS = {
  'agent:status_changed': [['agent_id', 'old_status', 'new_status'], (d) => [`agent:${d.agent_id}`, 'dashboard']],
  'agent:heartbeat': [['agent_id'], (d) => [`agent:${d.agent_id}`, 'dashboard']],
  'task:created': [['task_id', 'task'], (d) => [`task:${d.task_id}`, 'dashboard']],
  'task:assigned': [['task_id', 'agent_id', 'task'], (d) => [`task:${d.task_id}`, `agent:${d.agent_id}`, 'dashboard']],
  'task:updated': [['task_id', 'update'], (d) => [`task:${d.task_id}`, 'dashboard']],
  'task:completed': [['task_id', 'result'], (d) => [`task:${d.task_id}`, 'dashboard']],
  'conversation:message': [['conversation_id', 'message'], (d) => [`conversation:${d.conversation_id}`]],
  'system:alert': [['message', 'severity'], () => ['dashboard']],
};
const ID_FIELDS = new Set(['agent_id', 'task_id', 'conversation_id']);

class BadRequest extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

function validatePublish(item, prefix) {
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw new BadRequest('expected an object', prefix || null);
  const at = (f) => (prefix ? `${prefix}.${f}` : f);
  if (typeof item.event !== 'string') throw new BadRequest('missing event', at('event'));
  const spec = SERVER_EVENTS[item.event];
  if (!spec) throw new BadRequest(`unknown event ${item.event}`, at('event'));
  const data = item.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new BadRequest('data must be an object', at('data'));
  for (const f of spec[0]) {
    if (data[f] === undefined || data[f] === null) throw new BadRequest(`missing ${f}`, at(`data.${f}`));
    if (ID_FIELDS.has(f) && !ROOM_RE.test(`agent:${data[f]}`)) throw new BadRequest(`invalid ${f}`, at(`data.${f}`));
  }
  // Targets beyond rooms, as ringcast's publish API: user ids map to `user:{id}` rooms, socket
  // ids are rooms of their own in socket.io.
  const list = (f, check, what) => {
    const v = item[f];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length === 0 || v.length > 1000) throw new BadRequest(`${f} must be an array of 1-1000 ${what}`, at(f));
    v.forEach((x, i) => { if (typeof x !== 'string' || !check(x)) throw new BadRequest(`invalid ${what} ${JSON.stringify(x)}`, at(`${f}[${i}]`)); });
    return v;
  };
  const isUser = (u) => USER_RE.test(u);
  const isSid = (s) => /^[A-Za-z0-9_-]{20}$/.test(s);
  const targets = [
    ...list('rooms', (r) => ROOM_RE.test(r), 'room'),
    ...list('users', isUser, 'user id').map((u) => `user:${u}`),
    ...list('sockets', isSid, 'socket id'),
  ];
  const except = [
    ...list('except_rooms', (r) => ROOM_RE.test(r), 'room'),
    ...list('except_users', isUser, 'user id').map((u) => `user:${u}`),
    ...list('except_sockets', isSid, 'socket id'),
  ];
  const targeted = ['rooms', 'users', 'sockets'].some((f) => item[f] !== undefined);
  const rooms = targeted ? [...new Set(targets)] : spec[1](data);
  const payload = { ...data };
  if (payload.timestamp === undefined) payload.timestamp = new Date().toISOString();
  return { event: item.event, rooms, except, payload };
}

// ---------------------------------------------------------------------------------------------
// Server

const httpServer = http.createServer();
httpServer.on('connection', (s) => s.setNoDelay(true));

// A msgpack path is a server of its own with socket.io-msgpack-parser (as ringcast's
// --msgpack-path); a path in both lists is msgpack.
const mounts = [
  ...args.paths.filter((p) => !args.msgpackPaths.includes(p)).map((p) => [p, undefined]),
  ...args.msgpackPaths.map((p) => [p, requireClients('socket.io-msgpack-parser')]),
];
const servers = mounts.map(([p, parser]) => new Server(httpServer, {
  path: p,
  ...(parser ? { parser } : {}),
  pingInterval: args.pingInterval,
  pingTimeout: args.pingTimeout,
  connectTimeout: args.connectTimeout,
  serveClient: false,
  cors: { origin: '*' },
}));

// `delivered` counts this node's sockets (the adapter's sockets() is local, Redis or not).
async function publish(items) {
  let delivered = 0;
  for (const { event, rooms, except, payload } of items) {
    for (const io of servers) {
      const to = await io.of('/').adapter.sockets(new Set(rooms));
      const out = except.length ? await io.of('/').adapter.sockets(new Set(except)) : new Set();
      delivered += [...to].filter((id) => !out.has(id)).length;
    }
    // Clustered, one emit reaches every other adapter through Redis, the other paths' servers
    // of this process included (each has its own adapter uid): emitting on each would repeat it.
    for (const io of args.redisUrl ? servers.slice(0, 1) : servers) io.to(rooms).except(except).emit(event, payload);
  }
  return delivered;
}

// One publisher and one subscriber connection per server, as @socket.io/redis-adapter asks;
// both connected before the node listens, so it never takes a client it cannot reach.
async function useRedis(url) {
  const { createAdapter } = requireClients('@socket.io/redis-adapter');
  const { createClient } = requireClients('redis');
  for (const io of servers) {
    const pub = createClient({ url });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on('error', (e) => console.error(`redis: ${e.message}`));
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// socket.io's attach() forwards requests it does not own to the listeners registered before it,
// so this runs for everything outside the socket.io paths.
httpServer.prependListener('request', (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (mounts.some(([p]) => url.pathname.startsWith(p))) return;
  if (url.pathname === '/healthz' || url.pathname === '/readyz') return reply(res, 200, { ok: true });
  if (url.pathname !== '/api/v1/emit') return reply(res, 404, { error: 'not found' });
  if (req.method !== 'POST') return reply(res, 405, { error: 'method not allowed' });
  const expected = Buffer.from(`Bearer ${args.apiKey}`);
  const got = Buffer.from(req.headers.authorization || '');
  if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected)) return reply(res, 401, { error: 'unauthorized' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 1_000_000) chunks.push(c);
  });
  req.on('end', async () => {
    if (size > 1_000_000) return reply(res, 413, { error: 'body too large', field: null });
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, { error: 'invalid JSON', field: null });
    }
    let items;
    try {
      items = Array.isArray(body) ? body.map((x, i) => validatePublish(x, `[${i}]`)) : [validatePublish(body, '')];
    } catch (e) {
      if (e instanceof BadRequest) return reply(res, 400, { error: e.message, field: e.field });
      throw e;
    }
    reply(res, 200, { delivered: await publish(items) });
  });
});

for (const io of servers) {
  io.use((socket, next) => {
    try {
      socket.data.claims = verifyJwt((socket.handshake.auth || {}).token);
      const sub = socket.data.claims.sub;
      if (typeof sub === 'string' && !USER_RE.test(sub)) {
        const reason = sub === '' ? 'user id is empty'
          : sub.length > 128 ? 'user id is longer than 128 characters'
            : 'user id may only contain printable ASCII other than space, \'"\' and \'\\\'';
        return next(new Error(`invalid "sub" claim: ${reason}`));
      }
      next();
    } catch (e) {
      next(e instanceof AuthError ? new Error(e.message) : e);
    }
  });

  io.on('connection', (socket) => {
    socket.join('dashboard');
    const sub = socket.data.claims && socket.data.claims.sub;
    if (typeof sub === 'string') socket.join(`user:${sub}`);
    const fail = (message, ack) => {
      socket.emit('error', { message });
      if (typeof ack === 'function') ack({ error: message });
    };
    const room = (data) => (data && typeof data === 'object' && typeof data.room === 'string' && ROOM_RE.test(data.room) ? data.room : null);

    // User rooms are server-managed: ringcast's exact answer.
    const userRoom = (event, data, ack) => {
      const r = data && typeof data === 'object' && typeof data.room === 'string' ? data.room : '';
      if (!r.startsWith('user:')) return false;
      fail(`${event}: invalid room ${JSON.stringify(r)}: user rooms are server-managed`, typeof data === 'function' ? data : ack);
      return true;
    };
    socket.on('subscribe', (data, ack) => {
      if (userRoom('subscribe', data, ack)) return;
      const r = room(data);
      if (!r) return fail('invalid room', typeof data === 'function' ? data : ack);
      socket.join(r);
      socket.emit('subscribed', { room: r });
      if (typeof ack === 'function') ack({ room: r });
    });
    socket.on('unsubscribe', (data, ack) => {
      if (userRoom('unsubscribe', data, ack)) return;
      const r = room(data);
      if (!r) return fail('invalid room', typeof data === 'function' ? data : ack);
      socket.leave(r);
      socket.emit('unsubscribed', { room: r });
      if (typeof ack === 'function') ack({ room: r });
    });
    socket.on('heartbeat', (data, ack) => {
      if (!data || typeof data !== 'object' || typeof data.timestamp !== 'number') {
        return fail('invalid heartbeat', typeof data === 'function' ? data : ack);
      }
      const body = { timestamp: data.timestamp, server_time: Date.now() };
      socket.emit('heartbeat_ack', body);
      if (typeof ack === 'function') ack(body);
    });
    // A middleware (not onAny) so the error keeps its place in the order of replies.
    socket.use(([event, ...rest], next) => {
      if (event === 'subscribe' || event === 'unsubscribe' || event === 'heartbeat') return next();
      fail(`unknown event ${event}`, rest[rest.length - 1]);
    });
  });
}

(args.redisUrl ? useRedis(args.redisUrl) : Promise.resolve()).then(() => {
  httpServer.listen(args.port, args.host, () => {
    const { address, port } = httpServer.address();
    process.stdout.write(`ringcast listening on http://${address}:${port}\n`);
  });
}, (e) => {
  console.error(`server.js: redis ${args.redisUrl}: ${e.message}`);
  process.exit(1);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
