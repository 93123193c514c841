#!/usr/bin/env node
// socket.io-client 2.5 (Engine.IO v3, Socket.IO protocol v4) driven over stdin/stdout with JSON
// lines: the same commands and output lines as ../js/driver.js (see there), so the Rust tests
// drive it through the same `Client`. Differences, all from the 2.x API:
//   - `auth` (or `token`) travels as the handshake query (`query: {token}`), the only way a 2.x
//     client can pass it; the server reads it as the CONNECT auth.
//   - a refused CONNECT arrives as a CONNECT_ERROR packet whose data is the server's message (a
//     string in protocol v4; 2.x hands it to the socket's `error` event); it is printed as {"type":"connect_error","kind":"namespace",
//     "message"}. A transport failure (`connect_error`, e.g. the handshake's HTTP 400) prints as
//     {"type":"connect_error","kind":"engine","message","description"}.
//   - 2.x has no `onAny`: incoming events are read by wrapping `socket.onevent`.
'use strict';

const readline = require('node:readline');
const io = require('socket.io-client');

const sockets = new Map();

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function toWire(v) {
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === 'object') {
    if (typeof v.$bin === 'string' && Object.keys(v).length === 1) return Buffer.from(v.$bin, 'base64');
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = toWire(x);
    return o;
  }
  return v;
}

function fromWire(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString('base64') };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString('base64') };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromWire(x);
    return o;
  }
  return v;
}

function describe(err) {
  if (!err) return null;
  const d = err.description;
  if (d === undefined || d === null) return null;
  if (typeof d === 'number' || typeof d === 'string') return d;
  return d.message || String(d);
}

function connect(cmd) {
  const name = cmd.sock || 's';
  const opts = { forceNew: true, reconnection: false };
  if (cmd.path) opts.path = cmd.path;
  if (cmd.transports) opts.transports = cmd.transports;
  if (cmd.options) Object.assign(opts, cmd.options);
  if (cmd.auth !== undefined && cmd.auth !== null) opts.query = cmd.auth;
  else if (cmd.token !== undefined && cmd.token !== null) opts.query = { token: cmd.token };
  const socket = io(cmd.url, opts);
  sockets.set(name, socket);
  socket.io.on('open', () => {
    const engine = socket.io.engine;
    out({ type: 'open', sock: name, transport: engine.transport.name });
    engine.on('upgrade', (t) => out({ type: 'upgrade', sock: name, transport: t.name }));
  });
  socket.on('connect', () => {
    out({ type: 'connect', sock: name, id: socket.id, transport: socket.io.engine.transport.name, recovered: false });
  });
  // A CONNECT_ERROR packet (type 4) becomes the socket's `error` event in 2.x, and so does the
  // spec's own `error` event: read the packet itself (the manager's `packet` event) to tell
  // them apart.
  socket.io.on('packet', (packet) => {
    if (packet.type === 4 && packet.nsp === socket.nsp) {
      const data = packet.data;
      const message = typeof data === 'string' ? data : (data && data.message) || String(data);
      out({ type: 'connect_error', sock: name, kind: 'namespace', message, data: fromWire(data ?? null) });
    }
  });
  socket.on('connect_error', (err) => {
    out({ type: 'connect_error', sock: name, kind: 'engine', message: err.message, description: describe(err) });
  });
  socket.on('disconnect', (reason) => out({ type: 'disconnect', sock: name, reason }));
  const onevent = socket.onevent;
  socket.onevent = function (packet) {
    const [event, ...args] = packet.data || [];
    out({ type: 'event', sock: name, event, args: fromWire(args.filter((a) => typeof a !== 'function')) });
    return onevent.call(this, packet);
  };
}

function emit(cmd) {
  const name = cmd.sock || 's';
  const socket = sockets.get(name);
  if (!socket) return out({ type: 'fatal', message: `emit on unknown socket ${name}` });
  const args = toWire(cmd.args || []);
  if (cmd.ack !== undefined && cmd.ack !== null) {
    socket.emit(cmd.event, ...args, (...reply) => out({ type: 'ack', sock: name, ack: cmd.ack, args: fromWire(reply) }));
  } else {
    socket.emit(cmd.event, ...args);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    return out({ type: 'fatal', message: `bad command line: ${e.message}` });
  }
  switch (cmd.cmd) {
    case 'connect': return connect(cmd);
    case 'emit': return emit(cmd);
    case 'disconnect': {
      const s = sockets.get(cmd.sock || 's');
      if (s) s.disconnect();
      return;
    }
    case 'exit': {
      for (const s of sockets.values()) s.disconnect();
      return process.exit(0);
    }
    default: return out({ type: 'fatal', message: `unknown command ${cmd.cmd}` });
  }
});
// The test closed our stdin (or died): leave instead of lingering as an orphan.
rl.on('close', () => process.exit(0));
out({ type: 'ready' });
