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
//   {"type":"waiting","ready":R,"total":N,"stuck":S,"first":[...]} every 5 s until ready: the
//       first sockets not yet ready, with their transport, whether the upgrade probe was
//       answered (`probing`: the client got `3probe`) and any `upgradeError` (failure context);
//   {"type":"unexpected","kind","reason","description","context"} for the first disconnect of
//       each kind whose reason is not `transport close` (the XHR status and body, if any);
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
const states = [];

// Until every socket is ready, say every 5 s which are not (the test's failure context).
const progress = setInterval(() => {
  if (ready === total) { clearInterval(progress); return; }
  const stuck = states.map((f) => f()).filter((st) => !(st.connected && st.upgraded));
  out({ type: 'waiting', ready, total, stuck: stuck.length, first: stuck.slice(0, 5) });
}, 5000);

for (const [i, transports] of plan.entries()) {
  const opts = { path: cfg.path, auth: { token: cfg.token }, forceNew: true, reconnection: false };
  if (transports) opts.transports = transports;
  const socket = io(cfg.url, opts);
  let connected = false;
  let upgraded = transports !== null;
  let upgradeError = null;
  let probing = false;
  const check = () => {
    if (connected && upgraded) {
      ready += 1;
      if (ready === total) report();
    }
  };
  states.push(() => ({ i, kind: transports ? transports[0] : 'upgrade', connected, upgraded,
    transport: socket.io.engine && socket.io.engine.transport && socket.io.engine.transport.name,
    engine: socket.io.engine && socket.io.engine.readyState, sid: socket.io.engine && socket.io.engine.id,
    probing, upgradeError }));
  socket.io.on('open', () => {
    socket.io.engine.on('upgrading', () => { probing = true; });
    socket.io.engine.on('upgradeError', (e) => { upgradeError = String(e && e.message || e); });
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
