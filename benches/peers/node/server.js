'use strict';
// The Node peer of the benchmarks (benches/compare.sh): the ringcast gateway's behaviour on stock
// socket.io 4.8, the very program the e2e suite tests the tests against
// (tests/clients/js/peers/gateway.js), run with socket.io from this directory's pinned
// package-lock.json (`npm ci --prefix benches/peers/node`).
//
//   node benches/peers/node/server.js --listen 127.0.0.1:PORT --jwt-secret S --api-key K [--path /ws/]
//       [--redis-url redis://127.0.0.1:6379/]   (one node of a cluster: @socket.io/redis-adapter 8.3.0
//                                                over the `redis` client 4.7.1, both pinned here)
process.env.RINGCAST_PEER_MODULES = __dirname;
require('../../../tests/clients/js/peers/gateway.js');
