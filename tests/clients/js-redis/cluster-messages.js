// The ClusterAdapter wire format as the real adapters write and read it, for
// tests/cluster/cluster_message.rs. No Redis: the adapters run on fake ioredis-shaped clients
// that record what they would send and let us feed them what they would receive.
//
// 1. Prints one line {"samples": [...]}: each sample message published through the real
//    @socket.io/redis-streams-adapter 0.3.1 (`publish` / `publishResponse`, so `uid` and `nsp`
//    are added the adapter's way), with what it wrote: the stream entry fields (its XADD, or
//    its private `encode` for the ephemeral ones), the whole message as its PUBLISH payload
//    (@msgpack/msgpack), and the sharded adapter's (@socket.io/redis-adapter 8.3.0) encoding.
//    Also a session record stored through `persistSession`.
// 2. Reads one line {"encoded": [...], "session": ..., "replay": ...}: ringcast's encodings of
//    the same messages. Each goes through the adapters' own receiving paths (XREAD's
//    `onRawMessage`, the PUB/SUB listener, the sharded `onRawMessage`), and `restoreSession`
//    runs against ringcast's session record and stream entries. Prints {"results": [...],
//    "missed": [...]} and exits.
"use strict";
const readline = require("readline");
const { isDeepStrictEqual } = require("util");
const { createAdapter } = require("@socket.io/redis-streams-adapter");
const { createShardedAdapter } = require("@socket.io/redis-adapter");
const { encode } = require("@msgpack/msgpack");

const UID = "a1b2c3d4e5f60718";
const REQUESTER = "f0e1d2c3b4a59687";
const sent = [];
const clients = [];
let stream = []; // [id, [k, v, ...]] entries XRANGE serves
let stored = null; // the session record GETDEL returns

function idCompare(a, b) {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am === bm ? (as < bs ? -1 : as > bs ? 1 : 0) : am < bm ? -1 : 1;
}

// ioredis-shaped (no `sSubscribe`), so the adapters take their ioredis code paths.
function fakeClient() {
  const handlers = {};
  const client = {
    handlers,
    options: {},
    duplicate: () => fakeClient(),
    on(event, fn) {
      (handlers[event] ||= []).push(fn);
      return client;
    },
    emit: (event, ...args) => (handlers[event] || []).forEach((fn) => fn(...args)),
    subscribe: () => Promise.resolve(),
    ssubscribe: () => Promise.resolve(),
    xread: () => new Promise(() => {}),
    xadd(args) {
      sent.push({ via: "xadd", fields: args.slice(5) });
      return Promise.resolve("1-0");
    },
    publish(channel, payload) {
      sent.push({ via: "publish", channel, payload });
      return Promise.resolve(1);
    },
    spublish(channel, payload) {
      sent.push({ via: "spublish", channel, payload });
      return Promise.resolve(1);
    },
    set(key, value, px, ms) {
      sent.push({ via: "set", key, value });
      return Promise.resolve("OK");
    },
    multi() {
      const m = { get: () => m, del: () => m, exec: () => Promise.resolve([[null, stored], [null, 1]]) };
      return m;
    },
    xrange(name, start, end) {
      if (start === end) {
        return Promise.resolve(stream.filter(([id]) => id === start));
      }
      return Promise.resolve(stream.filter(([id]) => idCompare(id, start) >= 0));
    },
    disconnect() {},
  };
  clients.push(client);
  return client;
}

const nsp = {
  name: "/",
  server: { encoder: null, opts: { connectionStateRecovery: { maxDisconnectionDuration: 120000 } } },
};
const streams = createAdapter(fakeClient())(nsp);
streams.uid = UID;
const sharded = createShardedAdapter(fakeClient(), fakeClient())(nsp);
sharded.uid = UID;

const opts = (rooms, except, flags) => ({ rooms, except, flags });
// [name, "message" | "response", {type, data?}]: data objects built as cluster-adapter.ts does.
const samples = [
  ["initial_heartbeat", "message", { type: 1 }],
  ["heartbeat", "message", { type: 2 }],
  ["broadcast", "message", { type: 3, data: { packet: { type: 2, data: ["chat", { text: 'hé "x"' }, 1.5, null], nsp: "/" }, opts: opts(["r1"], ["sid1"], {}) } }],
  ["broadcast_with_ack", "message", { type: 3, data: { packet: { type: 2, data: ["ask"], nsp: "/" }, requestId: "req1", opts: opts([], [], { timeout: 5000 }) } }],
  ["broadcast_binary", "message", { type: 3, data: { packet: { type: 2, data: ["file", Buffer.from([1, 2, 3]), { n: -70000 }], nsp: "/" }, opts: opts([], [], { volatile: true }) } }],
  ["sockets_join", "message", { type: 4, data: { opts: opts(["a"], [], {}), rooms: ["b", "c"] } }],
  ["sockets_leave", "message", { type: 5, data: { opts: opts([], ["x"], {}), rooms: ["b"] } }],
  ["disconnect_sockets", "message", { type: 6, data: { opts: opts(["a"], [], {}), close: true } }],
  ["fetch_sockets", "message", { type: 7, data: { opts: opts(["a"], [], { timeout: 1000 }), requestId: "req2" } }],
  ["server_side_emit", "message", { type: 9, data: { packet: ["hello", 1] } }],
  ["server_side_emit_with_ack", "message", { type: 9, data: { requestId: "req3", packet: ["blob", Buffer.from([9])] } }],
  ["adapter_close", "message", { type: 13 }],
  ["fetch_sockets_response", "response", { type: 8, data: { requestId: "req2", sockets: [{ id: "s1", handshake: {}, rooms: ["s1", "a"], data: { n: 1 } }] } }],
  ["server_side_emit_response", "response", { type: 10, data: { requestId: "req3", packet: "ok" } }],
  ["broadcast_client_count", "response", { type: 11, data: { requestId: "req1", clientCount: 3 } }],
  ["broadcast_ack", "response", { type: 12, data: { requestId: "req1", packet: [{ fine: true }] } }],
  ["broadcast_ack_binary", "response", { type: 12, data: { requestId: "req1", packet: [Buffer.from([4, 5])] } }],
  // A Date: @msgpack/msgpack's timestamp extension; JSON's ISO text. ringcast keeps the text.
  ["server_side_emit_response_date", "response", { type: 10, data: { requestId: "r", packet: { at: new Date(1000) } } }],
];

const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const pairs = (flat) => {
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
};

function publishSamples() {
  return samples.map(([name, kind, message]) => {
    sent.length = 0;
    if (kind === "message") streams.publish(message);
    else streams.publishResponse(REQUESTER, message);
    const [out] = sent;
    const entry = out.via === "xadd" ? pairs(out.fields) : Object.entries(streams.encode(message));
    const msgpack = out.via === "publish" ? out.payload : Buffer.from(encode(message));
    return { name, via: out.via, entry, msgpack: b64(msgpack), sharded: b64(Buffer.from(sharded.encode(message))) };
  });
}

// Buffers, Uint8Arrays and Dates as plain JSON values, so decoded messages compare whatever
// library produced them.
function plain(value) {
  if (value instanceof Date) return value.toJSON();
  if (ArrayBuffer.isView(value)) return { bin: Array.from(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return value;
}

function receive(adapter, deliver) {
  let got;
  adapter.onMessage = (message) => {
    got = message;
  };
  try {
    deliver();
  } catch (e) {
    return { error: e.message };
  }
  return got;
}

async function checkEncoded(line) {
  const input = JSON.parse(line);
  // The streams adapter's subscriber: the client its PUB/SUB listener is on.
  const streamsSub = clients.find((c) => c.handlers.messageBuffer);
  const results = input.encoded.map(({ name, entry, msgpack, sharded: shardedB64 }) => {
    const want = plain(samples.find((s) => s[0] === name)[2]);
    const fromEntry = receive(streams, () => streams.onRawMessage(Object.fromEntries(entry), "1-0"));
    const fromMsgpack = receive(streams, () =>
      streamsSub.emit("messageBuffer", Buffer.from("socket.io#/#"), Buffer.from(msgpack, "base64")),
    );
    const fromSharded = receive(sharded, () =>
      sharded.onRawMessage(Buffer.from(shardedB64, "base64"), Buffer.from(sharded.channel)),
    );
    const same = (got) => isDeepStrictEqual(plain(got), want);
    return {
      name,
      entry: same(fromEntry),
      msgpack: same(fromMsgpack),
      sharded: same(fromSharded),
      got: [fromEntry, fromMsgpack, fromSharded].map(plain),
    };
  });
  // restoreSession against ringcast's record and entries (GETDEL and XRANGE are the fakes).
  stored = input.session;
  stream = input.replay.map(([id, fields]) => [id, fields.flat()]);
  delete streams.onMessage;
  const session = await streams.restoreSession("p1", input.offset);
  return { results, restored: plain(session) };
}

function persistedSession() {
  sent.length = 0;
  streams.persistSession({ sid: "s1", pid: "p1", rooms: ["s1", "room"], data: { user: { id: 7, name: "é" }, tags: ["a"] } });
  return sent[0].value;
}

function main() {
  console.log(JSON.stringify({ samples: publishSamples(), session: persistedSession() }));
  const rl = readline.createInterface({ input: process.stdin });
  rl.once("line", (line) => {
    checkEncoded(line).then(
      (out) => {
        console.log(JSON.stringify(out));
        process.exit(0);
      },
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}

main();
