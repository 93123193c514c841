#!/usr/bin/env node
// The Socket.IO admin UI (@socket.io/admin-ui 0.5.1's own static build, ui/dist, from
// tests/clients/admin-ui) in headless Debian Chromium driven by playwright-core, for ringcast's
// production tests.
//
// At start it serves ui/dist on a port of its own (another origin than ringcast's) and prints
//   {"type":"static","origin":"http://127.0.0.1:P"}
// Then commands arrive as JSON lines on stdin:
//   {"cmd":"login","server":"http://127.0.0.1:PORT","username":"admin","password":"..."}
//       fills the UI's connection form as a person would and submits it; prints
//       {"type":"connected"} once the UI shows its navigation (or {"type":"fatal"})
//   {"cmd":"text","view":"sockets"|"rooms"}  opens that view, prints {"type":"text","view",
//       "text"}: the page's visible text
//   {"cmd":"disconnect","nsp":"/","id":"SID"}  opens the socket's page and clicks its
//       "Disconnect this Socket instance" button; prints {"type":"clicked"}
//   {"cmd":"exit"}
// Errors print {"type":"fatal","message":"..."} and exit 1. The browser and its temporary
// profile are removed at exit (stdin closing counts as exit).
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DIST = path.join(__dirname, '..', '..', 'clients', 'admin-ui', 'node_modules', '@socket.io',
  'admin-ui', 'ui', 'dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.eot': 'application/vnd.ms-fontobject' };

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let context = null;
let profile = null;
let page = null;
let origin = null;

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

function fatal(message) {
  out({ type: 'fatal', message: String(message) });
  cleanup().finally(() => process.exit(1));
}

function serveStatic(req, res) {
  const url = new URL(req.url, 'http://x');
  const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).slice(1);
  const file = path.join(DIST, rel);
  if (!file.startsWith(DIST + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404);
    res.end();
    return;
  }
  const type = TYPES[path.extname(file)] || 'application/octet-stream';
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
}

async function login(cmd) {
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcast-admin-ui-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS,
  });
  page = await context.newPage();
  page.on('pageerror', (err) => out({ type: 'pageerror', message: err.message }));
  await page.goto(`${origin}/`);
  await page.getByLabel('Server URL').fill(cmd.server);
  await page.getByLabel('Username').fill(cmd.username);
  await page.getByLabel('Password').fill(cmd.password);
  await page.getByRole('button', { name: 'Connect' }).click();
  // The modal closes on "connect"; on connect_error it stays with the message.
  await page.getByLabel('Password').waitFor({ state: 'hidden', timeout: 15000 });
  out({ type: 'connected' });
}

async function text(cmd) {
  await page.goto(`${origin}/#/${cmd.view}/`);
  await page.waitForTimeout(0);
  out({ type: 'text', view: cmd.view, text: await page.innerText('body') });
}

async function disconnect(cmd) {
  await page.goto(`${origin}/#/n/${encodeURIComponent(cmd.nsp)}/sockets/${cmd.id}`);
  // Two logout buttons: the client's (closes the connection) and, last, the socket's.
  const button = page.locator('button:has(i.mdi-logout)').last();
  await button.click({ timeout: 15000 });
  out({ type: 'clicked' });
}

async function main() {
  origin = await new Promise((resolve, reject) => {
    const server = http.createServer(serveStatic);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
  out({ type: 'static', origin });
  const rl = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      const cmd = JSON.parse(line);
      switch (cmd.cmd) {
        case 'login': await login(cmd); break;
        case 'text': await text(cmd); break;
        case 'disconnect': await disconnect(cmd); break;
        case 'exit': await cleanup(); process.exit(0); break;
        default: throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
      }
    }).catch(fatal);
  });
  rl.on('close', () => { queue.then(cleanup).finally(() => process.exit(0)); });
}

main().catch(fatal);
