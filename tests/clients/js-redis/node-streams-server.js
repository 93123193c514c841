// A Node.js socket.io 4.8 node on @socket.io/redis-streams-adapter 0.3.1 with connection state
// recovery (Redis at 127.0.0.1:$1), on ringcast's path /ws/, for tests/cluster's mixed streams
// test. Driven by JSON lines on stdout:
//   out {"ready":true,"port":p}                         once it listens (and the adapter is reading)
//   out {"connection":id,"recovered":bool,"rooms":[…]}  each socket that connects
"use strict";
const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-streams-adapter");

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

async function main() {
  const redis = createClient({ url: `redis://127.0.0.1:${process.argv[2]}` });
  await redis.connect();
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    path: "/ws/",
    adapter: createAdapter(redis),
    // socket.io's defaults, spelled out: 2 minutes, and the middlewares skipped on recovery.
    connectionStateRecovery: { maxDisconnectionDuration: 120000, skipMiddlewares: true },
  });
  io.on("connection", (socket) => {
    out({ connection: socket.id, recovered: socket.recovered, rooms: [...socket.rooms] });
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  out({ ready: true, port: httpServer.address().port });
}

main().catch((e) => {
  out({ error: String(e && e.stack ? e.stack : e) });
  process.exit(1);
});
