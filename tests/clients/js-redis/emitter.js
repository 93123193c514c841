// @socket.io/redis-emitter 5.1.0 publishing a fixed scenario to the Redis at 127.0.0.1:$1, then
// exiting. Used by tests/cluster/emitter.rs; each step is one PUBLISH, in this order.
"use strict";
const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");

async function main() {
  const client = createClient({ url: `redis://127.0.0.1:${process.argv[2]}` });
  await client.connect();
  const emitter = new Emitter(client);
  // 1. One room: goes to socket.io#/#agent:7#.
  emitter.to("agent:7").emit("agent:status_changed", { agent_id: "7", old_status: "idle", new_status: "busy", timestamp: 1 });
  // 2. A room with no member on the ringcast node: dropped before decoding.
  emitter.to("task:404").emit("task:updated", { task_id: "404" });
  // 3. Everyone, with a Buffer and an ArrayBuffer view (bin and ext type 0) and undefined.
  emitter.emit("system:alert", { message: "hi", severity: "low", extra: undefined }, Buffer.from([1, 2, 3]), new Uint8Array([4, 5]));
  // 4. Two rooms: the shared channel.
  emitter.to(["agent:7", "task:1"]).emit("task:assigned", { task_id: "1", agent_id: "7" });
  // 5. Excluding a room: ringcast's engine cannot, so it must not deliver.
  emitter.except("agent:7").emit("conversation:message", { conversation_id: "c" });
  // 6-8. Requests without uid on socket.io-request#/#.
  emitter.in("agent:7").socketsJoin("vip");
  emitter.in("vip").socketsLeave(["agent:7"]);
  emitter.in("agent:7").disconnectSockets(true);
  // 9. serverSideEmit: ringcast has no listeners and must ignore it.
  emitter.serverSideEmit("ping", 1);
  // 10. The end marker.
  emitter.emit("done");
  await client.quit();
  console.log("done");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
