#!/usr/bin/env node
// A real browser for ringcast's production tests: headless Debian Chromium driven by
// playwright-core, loading page.html from tiny static servers on origins other than ringcast's.
//
// At start it serves page.html and socket.io-client's browser bundle on two ports (two origins:
// the test allows one with --cors-origin and not the other) and prints
//   {"type":"static","allowed":"http://127.0.0.1:P1","denied":"http://127.0.0.1:P2"}
// Then commands arrive as JSON lines on stdin:
//   {"cmd":"open","page":"a","origin":"allowed"|"denied","server":"ws://127.0.0.1:PORT",
//    "token":"JWT","room":"task:1","transports":"websocket"|null}
//       opens a tab; everything the page reports prints as
//       {"type":"page","page":"a","event":"connect"|"upgrade"|"connect_error"|"subscribed"|
//        "task:updated"|"disconnect"|"error","detail":{...}}
//   {"cmd":"dom","page":"a"}  prints {"type":"dom","page":"a","status":"...","events":["..."]}
//       (the page's visible text: what a person would read)
//   {"cmd":"exit"}
// Errors print {"type":"fatal","message":"..."} and exit 1. The browser and the temporary
// profile are removed at exit (stdin closing counts as exit).
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
// Headless is added by Playwright (`headless: true` puts --headless first) and so is the
// profile (launchPersistentContext passes --user-data-dir=<our fresh temporary dir>).
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The package's `exports` hide dist/, so find it from the package's own directory.
const bundle = path.join(__dirname, 'node_modules', 'socket.io-client', 'dist', 'socket.io.min.js');
const pageFile = path.join(__dirname, 'page.html');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let context = null;
let profile = null;
const pages = new Map();
const origins = {};

function fatal(message) {
  out({ type: 'fatal', message: String(message) });
  cleanup().finally(() => process.exit(1));
}

async function cleanup() {
  if (context) {
    const c = context;
    context = null;
    await c.close().catch(() => {});
  }
  if (profile) {
    fs.rmSync(profile, { recursive: true, force: true });
    profile = null;
  }
}

function serveStatic(req, res) {
  const url = new URL(req.url, 'http://x');
  const file = url.pathname === '/socket.io.min.js' ? bundle
    : url.pathname === '/' || url.pathname === '/index.html' ? pageFile
    : null;
  if (url.pathname === '/favicon.ico') {
    // Chromium asks for one on every page; a 404 would add a console error to every test log.
    res.writeHead(204);
    res.end();
    return;
  }
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  const type = file.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8';
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
}

function listen() {
  return new Promise((resolve, reject) => {
    const server = http.createServer(serveStatic);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

async function browser() {
  if (context) return context;
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcast-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  return context;
}

async function open(cmd) {
  const base = origins[cmd.origin];
  if (!base) throw new Error(`unknown origin ${JSON.stringify(cmd.origin)}`);
  const ctx = await browser();
  const page = await ctx.newPage();
  const name = cmd.page;
  pages.set(name, page);
  await page.exposeFunction('report', (event, detail) => {
    out({ type: 'page', page: name, event, detail });
  });
  page.on('console', (msg) => out({ type: 'console', page: name, text: msg.text() }));
  page.on('pageerror', (err) => out({ type: 'page', page: name, event: 'pageerror', detail: { message: err.message } }));
  const q = new URLSearchParams({ server: cmd.server, token: cmd.token, room: cmd.room });
  if (cmd.transports) q.set('transports', cmd.transports);
  await page.goto(`${base}/index.html?${q}`);
  out({ type: 'opened', page: name, url: page.url() });
}

async function dom(cmd) {
  const page = pages.get(cmd.page);
  if (!page) throw new Error(`no page ${JSON.stringify(cmd.page)}`);
  const status = await page.textContent('#status');
  const events = await page.$$eval('#events li', (items) => items.map((li) => li.textContent));
  out({ type: 'dom', page: cmd.page, status, events });
}

async function main() {
  origins.allowed = await listen();
  origins.denied = await listen();
  out({ type: 'static', allowed: origins.allowed, denied: origins.denied });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    switch (cmd.cmd) {
      case 'open': await open(cmd); break;
      case 'dom': await dom(cmd); break;
      case 'exit': await cleanup(); process.exit(0); break;
      default: throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
    }
  }
  await cleanup();
  process.exit(0);
}

process.on('SIGTERM', () => { cleanup().finally(() => process.exit(0)); });
main().catch(fatal);
