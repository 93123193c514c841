#!/usr/bin/env node
// Stock socket.io-client (4.8) sockets driven over stdin/stdout with JSON lines, for ringcast's
// production tests (metrics, `ringcast token`).
//
// Commands, one JSON object per stdin line (`sock` names a socket):
//   {"cmd":"connect","sock":"a","url":"http://127.0.0.1:PORT","path":"/ws/","token":"JWT",
//    "transports":["websocket"]}      (no `transports`: the default, polling then websocket)
//   (`"auth":{...}` instead of `token`: that auth object; a namespace goes at the url's end)
//   {"cmd":"emit","sock":"a","event":"subscribe","args":[{"room":"task:1"}]}
//   {"cmd":"disconnect","sock":"a"}
// Output lines: {"type":"ready"} at start, then per socket
//   {"type":"connect","sock","transport","id"}, {"type":"upgrade","sock","transport"},
//   {"type":"connect_error","sock","message"}, {"type":"disconnect","sock","reason"},
//   {"type":"event","sock","event","args"};
//   {"type":"fatal","message"} for a command this program cannot run (then it exits 1).
// Reconnection is off: a refused or dropped socket stays down, so each line is final.
'use strict';

const readline = require('node:readline');
const { io } = require('socket.io-client');

const sockets = new Map();

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function connect(cmd) {
  const name = cmd.sock;
  const opts = { path: cmd.path, forceNew: true, reconnection: false };
  if (cmd.token !== undefined && cmd.token !== null) opts.auth = { token: cmd.token };
  if (cmd.auth) opts.auth = cmd.auth; // any other auth object (the admin UI's login)
  if (cmd.transports) opts.transports = cmd.transports;
  const socket = io(cmd.url, opts);
  sockets.set(name, socket);
  socket.io.on('open', () => {
    socket.io.engine.on('upgrade', (t) => out({ type: 'upgrade', sock: name, transport: t.name }));
  });
  socket.on('connect', () => out({ type: 'connect', sock: name, transport: socket.io.engine.transport.name, id: socket.id }));
  socket.on('connect_error', (err) => out({ type: 'connect_error', sock: name, message: err.message }));
  socket.on('disconnect', (reason) => out({ type: 'disconnect', sock: name, reason }));
  socket.onAny((event, ...args) => out({ type: 'event', sock: name, event, args }));
}

function socketOf(cmd) {
  const socket = sockets.get(cmd.sock);
  if (!socket) throw new Error(`no socket ${JSON.stringify(cmd.sock)}`);
  return socket;
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  try {
    const cmd = JSON.parse(line);
    switch (cmd.cmd) {
      case 'connect': connect(cmd); break;
      case 'emit': socketOf(cmd).emit(cmd.event, ...(cmd.args || [])); break;
      case 'disconnect': socketOf(cmd).disconnect(); break;
      default: throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
    }
  } catch (e) {
    out({ type: 'fatal', message: String(e && e.message || e) });
    process.exit(1);
  }
});
rl.on('close', () => process.exit(0));
out({ type: 'ready' });
