// The reconnect storm of issue #13, measured: N stock socket.io-client 4.8 clients of node A
// (through TCP proxies acting as the load balancer) lose A at once; the proxies already point at
// node B, where every client reconnects with its pid and offset. Prints one JSON line:
// recoveries/s and the time from the signal to each client's `connect` with
// `socket.recovered === true` (p50, p99, max), whether each got exactly the events published
// while it was away, and node B's CPU time over the storm. Started by benches/recovery-storm.sh,
// which runs Redis and the two nodes.
//
//   node benches/recovery-storm.js --a PORT --b PORT --a-pid PID --b-pid PID
//        --signal SIGTERM|SIGKILL --clients N --missed M --token JWT --api-key KEY
//
// The clients live in child processes of at most PER_PROCESS clients, each with its own proxy:
// a client costs its process 3 descriptors (its socket and the proxy's two), and the open-files
// hard limit here is 20 000, so one process tops out near 6 600 clients.
"use strict";
const { fork } = require("child_process");
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const A = Number(arg("a")), B = Number(arg("b"));
const A_PID = Number(arg("a-pid")), B_PID = Number(arg("b-pid", "0"));
const SIGNAL = arg("signal", "SIGTERM");
const CLIENTS = Number(arg("clients", "200")), MISSED = Number(arg("missed", "5"));
const TOKEN = arg("token"), API_KEY = arg("api-key");
const ROOM = arg("room", `task:storm-${process.pid}`);
const PER_PROCESS = 4000;
// Give up on clients that have not recovered by then (counted as not recovered).
const DEADLINE_MS = 120000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15, clock ticks of
/// 1/100 s on Linux).
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---- a child: COUNT clients behind its own proxy, driven by the parent's messages ----
async function child(count) {
  const { io } = require(path.join(__dirname, "../tests/clients/js-redis/node_modules/socket.io-client"));
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
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${proxy.address().port}`;
  let t0 = 0;
  const clients = [];
  for (let i = 0; i < count; i++) {
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
  process.send({ type: "ready" });
  process.on("message", async (m) => {
    if (m.type === "first") {
      // One event each, so every client holds an offset.
      while (clients.some((c) => c.got.length < 1)) await sleep(20);
      process.send({ type: "holding" });
    } else if (m.type === "go") {
      upstream = B;
      t0 = m.t0;
      process.send({ type: "armed" });
      const until = Date.now() + DEADLINE_MS;
      while (Date.now() < until && clients.some((c) => c.recoveredAt === null && !c.fresh)) {
        await sleep(20);
      }
      await sleep(200);
      const want = JSON.stringify([0, ...Array.from({ length: MISSED }, (_, i) => i + 1)]);
      process.send({
        type: "done",
        times: clients.filter((c) => c.recoveredAt !== null).map((c) => c.recoveredAt),
        fresh: clients.filter((c) => c.fresh).length,
        exact: clients.filter((c) => JSON.stringify(c.got) === want).length,
      });
      for (const c of clients) c.socket.close();
      proxy.close();
      process.exit(0);
    }
  });
}

// ---- the parent: starts the children, publishes, signals node A, aggregates ----
async function parent() {
  const sizes = [];
  for (let left = CLIENTS; left > 0; left -= PER_PROCESS) sizes.push(Math.min(left, PER_PROCESS));
  const kids = sizes.map((n) => fork(__filename, [...process.argv.slice(2), "--room", ROOM, "--child", String(n)]));
  const next = (kid, type) => new Promise((resolve, reject) => {
    const on = (m) => { if (m.type === type) { kid.off("message", on); resolve(m); } };
    kid.on("message", on);
    kid.once("exit", (code) => { if (code !== 0) reject(new Error(`client process exited with ${code}`)); });
  });
  await Promise.all(kids.map((k) => next(k, "ready")));
  await publish(B, 0);
  const holding = kids.map((k) => next(k, "holding"));
  for (const k of kids) k.send({ type: "first" });
  await Promise.all(holding);

  const cpuBefore = B_PID ? cpuSeconds(B_PID) : null;
  const t0 = Date.now();
  const armed = kids.map((k) => next(k, "armed"));
  const done = kids.map((k) => next(k, "done"));
  for (const k of kids) k.send({ type: "go", t0 });
  await Promise.all(armed);
  process.kill(A_PID, SIGNAL);
  for (let n = 1; n <= MISSED; n++) await publish(B, n);
  const results = await Promise.all(done);
  const cpuB = B_PID ? cpuSeconds(B_PID) - cpuBefore : null;

  const times = results.flatMap((r) => r.times).sort((x, y) => x - y);
  const last = times.length ? times[times.length - 1] : 0;
  process.stdout.write(JSON.stringify({
    clients: CLIENTS, client_processes: kids.length, signal: SIGNAL, recovered: times.length,
    fresh: results.reduce((s, r) => s + r.fresh, 0),
    exactly_the_missed_events: results.reduce((s, r) => s + r.exact, 0),
    recoveries_per_s: last > 0 ? Math.round((times.length / last) * 1000) : null,
    p50_ms: percentile(times, 50), p99_ms: percentile(times, 99), max_ms: last,
    node_b_cpu_s: cpuB === null ? null : Number(cpuB.toFixed(2)),
    recoveries_per_node_b_cpu_s: cpuB ? Math.round(times.length / cpuB) : null,
  }) + "\n");
  process.exit(0);
}

const childCount = arg("child");
(childCount ? child(Number(childCount)) : parent()).catch((e) => { console.error(e); process.exit(1); });
