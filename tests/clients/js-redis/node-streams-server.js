// A Node.js socket.io 4.8 node on @socket.io/redis-streams-adapter 0.3.1 with connection state
// recovery (Redis at 127.0.0.1:$1), on ringcast's path /ws/, for tests/cluster's mixed streams
// tests. A stock server: `socket.data` stays `{}` (what the adapter saves as the session's data);
// with $2 = "owner", a middleware sets `socket.data.owner` to the `sub` of the handshake's JWT
// (read, not verified: a test peer), which ringcast then checks against a restoring token.
// Its clients speak ringcast's subscribe protocol (the spec's `subscribe {room}` → `subscribed
// {room}`), nothing checked. Driven by JSON lines:
//   out {"ready":true,"port":p}                         once it listens (and the adapter is reading)
//   out {"connection":id,"recovered":bool,"rooms":[…]}  each socket that connects
//   out {"disconnect":id,"reason":r}                    each socket that goes (its session is saved
//                                                       by then when the reason is recoverable)
//   in  {"op":"emit","room":r,"event":e,"args":[…],"binary":[…]?}
//                                                       → io.to(r).emit(e, ...args[, Buffer])
//   out {"op":"emit"}                                   once Redis answered its XADD
"use strict";
const http = require("http");
const readline = require("readline");
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
  if (process.argv[3] === "owner") {
    io.use((socket, next) => {
      try {
        const token = String((socket.handshake.auth || {}).token || "");
        socket.data.owner = JSON.parse(Buffer.from(token.split(".")[1], "base64url")).sub;
      } catch (e) {
        // No readable token: no owner, as on a stock server.
      }
      next();
    });
  }
  io.on("connection", (socket) => {
    out({ connection: socket.id, recovered: socket.recovered, rooms: [...socket.rooms] });
    socket.on("subscribe", (arg) => {
      socket.join(arg.room);
      // Volatile: with recovery on, socket.io sends even `socket.emit` as a broadcast to the
      // socket's own room with an offset as last argument (Socket#emit), and the spec's
      // `subscribed` must not end in a string (the client would take it for an offset).
      socket.volatile.emit("subscribed", { room: arg.room });
    });
    socket.on("disconnect", (reason) => out({ disconnect: socket.id, reason }));
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  out({ ready: true, port: httpServer.address().port });

  for await (const line of readline.createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line);
    if (cmd.op !== "emit") {
      out({ op: cmd.op, error: "unknown op" });
      continue;
    }
    const args = cmd.args.slice();
    if (cmd.binary) args.push(Buffer.from(cmd.binary));
    io.to(cmd.room).emit(cmd.event, ...args);
    // The adapter sent its XADD on this client already (synchronously, in `broadcast`): a PING
    // behind it is answered after it, so the entry is in the stream when this line is out.
    await redis.ping();
    out({ op: "emit" });
  }
  io.close();
  await redis.quit().catch(() => {});
  process.exit(0);
}

main().catch((e) => {
  out({ error: String(e && e.stack ? e.stack : e) });
  process.exit(1);
});
