#!/usr/bin/env node
// The Socket.IO protocol suite's reference server on stock socket.io 4.8 (what
// examples/reference.rs implements), used with RINGCAST_E2E_TARGET=node to test the binary/ack
// e2e test itself. On connection emit `auth` with the handshake auth; echo `message` as
// `message-back` with the same arguments (binary included); `message-with-ack` acks with its own
// arguments. Usage: node reference.js --listen 127.0.0.1:0
'use strict';
const http = require('node:http');
const { Server } = require('socket.io');

const i = process.argv.indexOf('--listen');
const [host, port] = (i >= 0 ? process.argv[i + 1] : '127.0.0.1:0').split(/:(?=[^:]*$)/);
const httpServer = http.createServer();
// pingInterval 300 / pingTimeout 200 / connectTimeout 1000 as the protocol suite's server has.
const io = new Server(httpServer, { pingInterval: 300, pingTimeout: 200, connectTimeout: 1000, maxHttpBufferSize: 1e6, cors: { origin: '*' } });
io.on('connection', (socket) => {
  socket.emit('auth', socket.handshake.auth);
  socket.on('message', (...args) => socket.emit('message-back', ...args));
  socket.on('message-with-ack', (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});
httpServer.listen(Number(port), host, () => {
  const a = httpServer.address();
  process.stdout.write(`ringcast listening on http://${a.address}:${a.port}\n`);
});
