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
const options = { pingInterval: 300, pingTimeout: 200, connectTimeout: 1000, maxHttpBufferSize: 1e6, cors: { origin: '*' } };
const io = new Server(httpServer, options);
// `/msgpack/`: the same server with socket.io-msgpack-parser (as examples/reference.rs).
const msgpack = new Server(httpServer, { ...options, path: '/msgpack/', parser: require('socket.io-msgpack-parser') });
const onConnection = (socket) => {
  socket.emit('auth', socket.handshake.auth);
  socket.on('message', (...args) => socket.emit('message-back', ...args));
  socket.on('message-with-ack', (...args) => {
    const ack = args.pop();
    ack(...args);
  });
};
io.on('connection', onConnection);
msgpack.on('connection', onConnection);
httpServer.listen(Number(port), host, () => {
  const a = httpServer.address();
  process.stdout.write(`ringcast listening on http://${a.address}:${a.port}\n`);
});
