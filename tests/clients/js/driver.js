#!/usr/bin/env node
// A scriptable socket.io-client (4.8) driven over stdin/stdout with JSON lines, so the Rust e2e
// tests can orchestrate many behaviours (and many sockets) with one long-lived process.
//
// Commands (one JSON object per stdin line; `sock` names a socket, default "s"):
//   {"cmd":"connect","sock":"a","url":"http://127.0.0.1:PORT","path":"/ws/","token":"JWT",
//    "auth":{...}, "transports":["websocket"], "options":{"reconnection":true}}
//       `auth` wins over `token`; with neither the handshake carries no auth at all; `options`
//       are merged into the io() options last; `"parser":"msgpack"` uses socket.io-msgpack-parser.
//   {"cmd":"emit","sock":"a","event":"subscribe","args":[{"room":"agent:1"}],"ack":7}
//       with `ack` (any JSON id) the emit takes an ack callback; its reply prints as an ack line.
//   {"cmd":"reconnect","sock":"a","auth":{...}}   the same socket connects again (new auth if given)
//   {"cmd":"disconnect","sock":"a"}
//   {"cmd":"exit"}
// Output lines (JSON): {"type":"ready"} once at start, then per socket
//   {"type":"open","sock","transport"} (Engine.IO session open), {"type":"connect","sock","id","transport","recovered"}, {"type":"upgrade","sock","transport"},
//   {"type":"connect_error","sock","message","data"}, {"type":"disconnect","sock","reason"},
//   {"type":"event","sock","event","args"}, {"type":"ack","sock","ack","args"},
//   {"type":"fatal","message"} for a command this driver cannot run.
// Binary travels as {"$bin":"<base64>"} both ways (JSON has no bytes).
'use strict';

const readline = require('node:readline');
const { io } = require('socket.io-client');

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

function connect(cmd) {
  const name = cmd.sock || 's';
  const opts = { forceNew: true, reconnection: false };
  if (cmd.path) opts.path = cmd.path;
  if (cmd.transports) opts.transports = cmd.transports;
  if (cmd.parser === 'msgpack') opts.parser = require('socket.io-msgpack-parser');
  if (cmd.options) Object.assign(opts, cmd.options);
  if (cmd.auth !== undefined) opts.auth = cmd.auth;
  else if (cmd.token !== undefined && cmd.token !== null) opts.auth = { token: cmd.token };
  const socket = io(cmd.url, opts);
  sockets.set(name, socket);
  // The Engine.IO session opens (and may upgrade) before the Socket.IO CONNECT completes.
  socket.io.on('open', () => {
    const engine = socket.io.engine;
    out({ type: 'open', sock: name, transport: engine.transport.name });
    engine.on('upgrade', (t) => out({ type: 'upgrade', sock: name, transport: t.name }));
  });
  socket.on('connect', () => {
    out({ type: 'connect', sock: name, id: socket.id, transport: socket.io.engine.transport.name, recovered: socket.recovered });
  });
  socket.on('connect_error', (err) => {
    out({ type: 'connect_error', sock: name, message: err.message, data: fromWire(err.data ?? null) });
  });
  socket.on('disconnect', (reason) => out({ type: 'disconnect', sock: name, reason }));
  socket.onAny((event, ...args) => out({ type: 'event', sock: name, event, args: fromWire(args) }));
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
    case 'reconnect': {
      // The same Socket object connects again (keeping its recovery pid and offset), with
      // `auth` replacing its auth object when given.
      const s = sockets.get(cmd.sock || 's');
      if (!s) return out({ type: 'fatal', message: `reconnect of unknown socket ${cmd.sock}` });
      if (cmd.auth !== undefined) s.auth = cmd.auth;
      s.connect();
      return;
    }
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
