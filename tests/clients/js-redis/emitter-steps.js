// @socket.io/redis-emitter 5.1.0 on the Redis at 127.0.0.1:$1, driven over stdin/stdout with
// JSON lines by tests/cluster/ringcast_emitter.rs:
//   out {"ready":true}                                     once connected
//   in  {"op":"emit","to":[rooms],"event":e,"args":[…]}    → emitter.to(rooms).emit(e, ...args)
//   in  {"op":"socketsJoin","in":[rooms],"join":[rooms]}   → emitter.in(rooms).socketsJoin(join)
//   out {"op":…,"done":true}                               once the PUBLISH has been answered
"use strict";
const readline = require("readline");
const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

async function main() {
  const client = createClient({ url: `redis://127.0.0.1:${process.argv[2]}` });
  await client.connect();
  const emitter = new Emitter(client);
  out({ ready: true });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line);
    switch (cmd.op) {
      case "emit":
        emitter.to(cmd.to).emit(cmd.event, ...cmd.args);
        break;
      case "socketsJoin":
        emitter.in(cmd.in).socketsJoin(cmd.join);
        break;
      default:
        out({ op: cmd.op, error: "unknown op" });
        continue;
    }
    // The emitter does not return its PUBLISH; a PING on the same connection is answered
    // after it, so "done" means Redis has forwarded the message.
    await client.ping();
    out({ op: cmd.op, done: true });
  }
  await client.quit();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
