#!/usr/bin/env node
// Many stock socket.io-client (4.8) sockets at once, for ringcast's graceful-drain test.
//
//   node swarm.js '{"url":"http://127.0.0.1:PORT","path":"/ws/","token":"JWT",
//                   "websocket":100,"polling":100,"upgrade":100}'
//
// Opens `websocket` sockets with transports ["websocket"], `polling` with ["polling"] and
// `upgrade` with the default (polling, then upgraded to websocket); all with reconnection off,
// so each socket's first disconnect is its last. Prints JSON lines:
//   {"type":"ready","sockets":N,"transports":{"websocket":W,"polling":P}}
//       once every socket is connected (and every `upgrade` socket has upgraded);
//   {"type":"disconnected","sockets":N,"reasons":{"transport close":N},
//    "by_kind":{"websocket":{...},"polling":{...},"upgrade":{...}}}
//       once every socket has seen `disconnect`, then exits 0;
//   {"type":"fatal","message":"..."} on a connect_error (then exits 1).
'use strict';

const { io } = require('socket.io-client');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const cfg = JSON.parse(process.argv[2]);
const plan = [
  ...Array(cfg.websocket || 0).fill(['websocket']),
  ...Array(cfg.polling || 0).fill(['polling']),
  ...Array(cfg.upgrade || 0).fill(null),
];
const total = plan.length;
let ready = 0;
let gone = 0;
const reasons = {};
const sockets = [];
const byKind = {};
const explained = {};

for (const [i, transports] of plan.entries()) {
  const opts = { path: cfg.path, auth: { token: cfg.token }, forceNew: true, reconnection: false };
  if (transports) opts.transports = transports;
  const socket = io(cfg.url, opts);
  let connected = false;
  let upgraded = transports !== null;
  const check = () => {
    if (connected && upgraded) {
      ready += 1;
      if (ready === total) report();
    }
  };
  socket.io.on('open', () => {
    socket.io.engine.on('upgrade', () => { upgraded = true; check(); });
  });
  socket.on('connect', () => { connected = true; check(); });
  socket.on('connect_error', (err) => {
    out({ type: 'fatal', message: `socket ${i} (${transports ?? 'default'}): connect_error ${err.message}` });
    process.exit(1);
  });
  socket.on('disconnect', (reason, details) => {
    const kind = transports ? transports[0] : 'upgrade';
    if (reason !== 'transport close' && !explained[kind]) {
      // The first unexpected disconnect of each kind says why (the XHR status, the error).
      explained[kind] = true;
      const d = details || {};
      const description = d.description instanceof Error ? d.description.message : d.description;
      out({ type: 'unexpected', kind, reason, description: String(description), context: fmtContext(d.context) });
    }
    reasons[reason] = (reasons[reason] || 0) + 1;
    byKind[kind] = byKind[kind] || {};
    byKind[kind][reason] = (byKind[kind][reason] || 0) + 1;
    gone += 1;
    if (gone === total) {
      out({ type: 'disconnected', sockets: total, reasons, by_kind: byKind });
      process.exit(0);
    }
  });
  sockets.push(socket);
}

function report() {
  const transports = {};
  for (const s of sockets) {
    const name = s.io.engine.transport.name;
    transports[name] = (transports[name] || 0) + 1;
  }
  out({ type: 'ready', sockets: total, transports });
}

function fmtContext(ctx) {
  if (!ctx) return null;
  // engine.io-client passes the failed XMLHttpRequest: its status and body say what the server said.
  if (typeof ctx.status !== 'undefined') return { status: ctx.status, body: String(ctx.responseText || '').slice(0, 200) };
  return String(ctx);
}
