#!/usr/bin/env node
// A plain WebSocket echo on `/` with the `ws` package (what examples/ws_echo.rs implements), used
// with RINGCAST_E2E_TARGET=node to test the Autobahn e2e test itself.
// Usage: node ws_echo.js --listen 127.0.0.1:0
'use strict';
const http = require('node:http');
const { WebSocketServer } = require('ws');

const i = process.argv.indexOf('--listen');
const [host, port] = (i >= 0 ? process.argv[i + 1] : '127.0.0.1:0').split(/:(?=[^:]*$)/);
const server = http.createServer();
// Autobahn's 9.x cases send messages up to 16 MiB; no compression (cases 12/13 are not run).
// 9.3.1/9.4.1 send 4 MiB in 64-byte fragments: 65 536 of them, over ws's default cap of 16 384.
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024, maxFragments: 1 << 20, perMessageDeflate: false });
wss.on('connection', (ws) => {
  // ws closes with the right code (1002/1007/1009) itself; the event must just be handled.
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(Number(port), host, () => {
  const a = server.address();
  process.stdout.write(`ringcast listening on http://${a.address}:${a.port}\n`);
});
