#!/usr/bin/env node
// The JavaScript snippets of shared/spec/websocket-api.md, verbatim apart from the URL and the
// token (argv), run in order on one socket. Usage: node spec_snippets.js URL TOKEN [websocket]
// The optional third argument runs the same program websocket-only (the spec shows default
// transports; the suite checks both). It runs until killed, as the spec's program would.
'use strict';
const { io } = require('socket.io-client');
const [URL, TOKEN, ONLY] = process.argv.slice(2);
const TRANSPORTS = ONLY === 'websocket' ? { transports: ['websocket'] } : {};

// ## Connection
const socket = io(URL, {
  auth: { token: TOKEN },
  path: '/ws',
  ...TRANSPORTS
});

// ### Subscribe to Agent Events
socket.emit('subscribe', { room: 'agent:123e4567-e89b-12d3-a456-426614174000' });

socket.on('agent:status_changed', (data) => {
  console.log(`Agent ${data.agent_id} changed from ${data.old_status} to ${data.new_status}`);
});

// ### Subscribe to Task Events
socket.emit('subscribe', { room: 'task:123e4567-e89b-12d3-a456-426614174000' });

socket.on('task:updated', (data) => {
  console.log(`Task ${data.task_id} updated:`, data.update);
});

// ### Heartbeat
// Send heartbeat every 25 seconds
setInterval(() => {
  socket.emit('heartbeat', { timestamp: Date.now() });
}, 25000);

socket.on('heartbeat_ack', (data) => {
  console.log('Server acknowledged heartbeat');
});
