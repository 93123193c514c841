// A Node.js socket.io 4.8 node on @socket.io/redis-adapter 8.3 (Redis at 127.0.0.1:$1) running
// @socket.io/admin-ui 0.5.1's server side (`instrument(io, {auth: false})`, from
// tests/clients/admin-ui), with a socket.io-client on its `/admin` as a UI would connect. Driven
// by tests/cluster/ringcast_admin_ui_node_mixed.rs:
//   out {"ready":true,"pid":…}          once the `/admin` client is connected and the adapter subscribed
//   out {"admin_stats":pid}              each server_stats the `/admin` client receives (its `pid`)
"use strict";
const http = require("http");
const path = require("path");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-adapter");
const { instrument } = require(path.join(__dirname, "../admin-ui/node_modules/@socket.io/admin-ui"));

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

async function main() {
  const url = `redis://127.0.0.1:${process.argv[2]}`;
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
  instrument(io, { auth: false });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const ui = connect(`http://127.0.0.1:${httpServer.address().port}/admin`, { transports: ["websocket"] });
  ui.on("server_stats", (stats) => out({ admin_stats: stats.pid }));
  await new Promise((resolve) => ui.on("connect", resolve));
  // The adapter subscribes without awaiting; a PING on the subscriber queues behind SUBSCRIBE.
  await sub.ping();
  out({ ready: true, pid: process.pid });
  // Runs until stdin closes (the test dropping the process).
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
