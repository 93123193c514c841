// The reconnect storm of issue #13, measured: N stock socket.io-client 4.8 clients of node A
// (through a TCP proxy acting as the load balancer) lose A at once; the proxy already points at
// node B, where every client reconnects with its pid and offset. Prints one JSON line:
// recoveries/s and the time from the signal to each client's `connect` with
// `socket.recovered === true` (p50, p99, max), and whether each got exactly the events published
// while it was away. Started by benches/recovery-storm.sh, which runs Redis and the two nodes.
//
//   node benches/recovery-storm.js --a PORT --b PORT --a-pid PID --signal SIGTERM|SIGKILL
//        --clients N --missed M --token JWT --api-key KEY
"use strict";
const http = require("http");
const net = require("net");
const path = require("path");
const { io } = require(path.join(__dirname, "../tests/clients/js-redis/node_modules/socket.io-client"));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const A = Number(arg("a")), B = Number(arg("b")), A_PID = Number(arg("a-pid"));
const SIGNAL = arg("signal", "SIGTERM");
const CLIENTS = Number(arg("clients", "200")), MISSED = Number(arg("missed", "5"));
const TOKEN = arg("token"), API_KEY = arg("api-key");
const ROOM = `task:storm-${process.pid}`;
// Give up on clients that have not recovered by then (counted as not recovered).
const DEADLINE_MS = 120000;

// The load balancer: new connections go to `upstream`; each relayed pair dies together.
let upstream = A;
const proxy = net.createServer((down) => {
  const up = net.connect(upstream, "127.0.0.1");
  const both = () => { down.destroy(); up.destroy(); };
  down.on("error", both).on("close", both);
  up.on("error", both).on("close", both);
  down.pipe(up);
  up.pipe(down);
});

function publish(port, n) {
  const body = JSON.stringify({ event: "task:updated", rooms: [ROOM],
    data: { task_id: ROOM, update: { n } } });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/api/v1/emit", method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}`,
        "Content-Length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`publish ${n}: ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${proxy.address().port}`;
  let t0 = 0;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = { got: [], recoveredAt: null, fresh: false };
    c.socket = io(url, { path: "/ws/", transports: ["websocket"], auth: { token: TOKEN },
      reconnectionDelay: 100, reconnectionDelayMax: 1000, randomizationFactor: 0.5 });
    c.socket.on("task:updated", (data) => c.got.push(data.update.n));
    c.socket.on("connect", () => {
      if (t0 === 0) return;
      if (c.socket.recovered) c.recoveredAt = Date.now() - t0;
      else c.fresh = true;
    });
    c.ready = new Promise((resolve) => {
      c.socket.once("connect", () => c.socket.emit("subscribe", { room: ROOM }));
      c.socket.once("subscribed", resolve);
    });
    clients.push(c);
  }
  await Promise.all(clients.map((c) => c.ready));
  // One event each, so every client holds an offset.
  await publish(B, 0);
  while (clients.some((c) => c.got.length < 1)) await new Promise((r) => setTimeout(r, 20));

  upstream = B;
  t0 = Date.now();
  process.kill(A_PID, SIGNAL);
  for (let n = 1; n <= MISSED; n++) await publish(B, n);
  const until = Date.now() + DEADLINE_MS;
  while (Date.now() < until && clients.some((c) => c.recoveredAt === null && !c.fresh)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  const times = clients.filter((c) => c.recoveredAt !== null).map((c) => c.recoveredAt).sort((x, y) => x - y);
  const want = JSON.stringify([0, ...Array.from({ length: MISSED }, (_, i) => i + 1)]);
  const exact = clients.filter((c) => JSON.stringify(c.got) === want).length;
  const last = times.length ? times[times.length - 1] : 0;
  process.stdout.write(JSON.stringify({
    clients: CLIENTS, signal: SIGNAL, recovered: times.length,
    fresh: clients.filter((c) => c.fresh).length,
    exactly_the_missed_events: exact,
    recoveries_per_s: last > 0 ? Math.round((times.length / last) * 1000) : null,
    p50_ms: percentile(times, 50), p99_ms: percentile(times, 99), max_ms: last,
  }) + "\n");
  for (const c of clients) c.socket.close();
  proxy.close();
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
