// A Node.js socket.io 4.8 node on @socket.io/redis-adapter 8.3 (Redis at 127.0.0.1:$1; with
// $2 = "sharded" on its createShardedAdapter, subscriptionMode $3, default "dynamic"), with one
// socket.io-client connected to it that joins "dashboard". Driven over stdin/stdout with JSON
// lines by tests/cluster/node_adapter.rs:
//   out {"ready":true,"sid":…,"uid":…}       once the client is connected and the adapter subscribed
//   out {"got":event,"args":[…]}             each event the client receives (Buffers as {"bin":[…]})
//   out {"disconnect":reason}                when the client is disconnected
//   in  {"op":"emit","room":r,"event":e,"args":[…],"binary":[…]?}  → io.to(r).emit(e, ...args[, Buffer])
//   in  {"op":"fetch"} / {"op":"allRooms"} / {"op":"serverCount"} → out {"op":…,"result":…}
//   in  {"op":"socketsJoin","room":r,"join":j}   → io.in(r).socketsJoin(j)
"use strict";
const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const plain = (v) => (Buffer.isBuffer(v) ? { bin: [...v] } : v);

async function main() {
  const url = `redis://127.0.0.1:${process.argv[2]}`;
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const adapter =
    process.argv[3] === "sharded"
      ? createShardedAdapter(pub, sub, { subscriptionMode: process.argv[4] || "dynamic" })
      : createAdapter(pub, sub);
  const io = new Server(httpServer, { adapter });
  io.on("connection", (socket) => socket.join("dashboard"));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const client = connect(`http://127.0.0.1:${httpServer.address().port}`, { transports: ["websocket"] });
  client.onAny((event, ...args) => out({ got: event, args: args.map(plain) }));
  client.on("disconnect", (reason) => out({ disconnect: reason }));
  await new Promise((resolve) => client.on("connect", resolve));
  // The adapter subscribes without awaiting; a PING on the subscriber queues behind SUBSCRIBE.
  await sub.ping();
  out({ ready: true, sid: client.id, uid: io.of("/").adapter.uid });

  for await (const line of readline.createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line);
    try {
      switch (cmd.op) {
        case "emit": {
          const args = cmd.args.slice();
          if (cmd.binary) args.push(Buffer.from(cmd.binary));
          io.to(cmd.room).emit(cmd.event, ...args);
          out({ op: "emit" });
          break;
        }
        case "fetch": {
          const sockets = await io.fetchSockets();
          out({ op: "fetch", result: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], auth: s.handshake.auth })) });
          break;
        }
        case "allRooms":
          out({ op: "allRooms", result: [...(await io.of("/").adapter.allRooms())] });
          break;
        case "serverCount":
          out({ op: "serverCount", result: await io.of("/").adapter.serverCount() });
          break;
        case "socketsJoin":
          io.in(cmd.room).socketsJoin(cmd.join);
          out({ op: "socketsJoin" });
          break;
        default:
          out({ op: cmd.op, error: "unknown op" });
      }
    } catch (e) {
      out({ op: cmd.op, error: String(e) });
    }
  }
  client.close();
  io.close();
  await Promise.all([pub.quit(), sub.quit()]).catch(() => {});
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
