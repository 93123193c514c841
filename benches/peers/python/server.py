#!/usr/bin/env python3
"""The ringcast gateway's behaviour on python-socketio 5 + uvicorn (ASGI): the Python peer of the
benchmarks (benches/compare.sh). This is the stack ringcast replaces (see the spec's Python
examples), run the way it is deployed: one uvicorn worker on uvloop + httptools + websockets (sans-io).

    benches/peers/install.sh python
    benches/peers/python/.venv/bin/python benches/peers/python/server.py \
        --listen 127.0.0.1:PORT --jwt-secret S --api-key K [--path /ws/]

Prints `ringcast listening on http://HOST:PORT` on stdout once it accepts.
"""

import argparse
import asyncio
import hmac
import json
import re
import socket
import sys
import time

import jwt
import socketio
import uvicorn

ROOM_RE = re.compile(r"^(?:dashboard|(?:agent|task|conversation):[A-Za-z0-9._-]{1,128})$")
# Same tolerance as the jsonwebtoken crate's default and the Node peer: 60 s on `exp`.
LEEWAY_S = 60
MAX_BODY = 1_000_000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", default="127.0.0.1:8000")
    p.add_argument("--path", default="/ws/")
    p.add_argument("--jwt-secret", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--ping-interval-ms", type=int, default=25000)
    p.add_argument("--ping-timeout-ms", type=int, default=20000)
    p.add_argument("--workers", default=None, help="accepted for command-line parity; one event loop")
    return p.parse_args()


args = parse_args()
sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins="*",
    ping_interval=args.ping_interval_ms / 1000,
    ping_timeout=args.ping_timeout_ms / 1000,
    max_http_buffer_size=MAX_BODY,
)


def verify(token):
    if not isinstance(token, str) or not token:
        raise ConnectionRefusedError("missing token")
    try:
        claims = jwt.decode(
            token,
            args.jwt_secret,
            algorithms=["HS256"],
            leeway=LEEWAY_S,
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError as e:
        raise ConnectionRefusedError(f"invalid token: {e}") from None
    if not isinstance(claims.get("sub"), str):
        raise ConnectionRefusedError("invalid token")
    return claims


@sio.event
async def connect(sid, environ, auth):
    claims = verify((auth or {}).get("token") if isinstance(auth, dict) else None)
    await sio.save_session(sid, {"sub": claims["sub"]})
    await sio.enter_room(sid, "dashboard")


def room_of(data):
    if isinstance(data, dict) and isinstance(data.get("room"), str) and ROOM_RE.match(data["room"]):
        return data["room"]
    return None


@sio.event
async def subscribe(sid, data=None):
    room = room_of(data)
    if room is None:
        await sio.emit("error", {"message": "invalid room"}, to=sid)
        return {"error": "invalid room"}
    await sio.enter_room(sid, room)
    await sio.emit("subscribed", {"room": room}, to=sid)
    return {"room": room}


@sio.event
async def unsubscribe(sid, data=None):
    room = room_of(data)
    if room is None:
        await sio.emit("error", {"message": "invalid room"}, to=sid)
        return {"error": "invalid room"}
    await sio.leave_room(sid, room)
    await sio.emit("unsubscribed", {"room": room}, to=sid)
    return {"room": room}


@sio.event
async def heartbeat(sid, data=None):
    if not isinstance(data, dict) or not isinstance(data.get("timestamp"), (int, float)):
        await sio.emit("error", {"message": "invalid heartbeat"}, to=sid)
        return {"error": "invalid heartbeat"}
    body = {"timestamp": data["timestamp"], "server_time": int(time.time() * 1000)}
    await sio.emit("heartbeat_ack", body, to=sid)
    return body


def members(rooms):
    """Sockets in any of `rooms` on this node (what the emit API reports as delivered)."""
    ns = sio.manager.rooms.get("/", {})
    if len(rooms) == 1:
        return len(ns.get(rooms[0], ()))
    seen = set()
    for r in rooms:
        seen.update(ns.get(r, ()))
    return len(seen)


async def reply(send, status, body):
    data = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
    })
    await send({"type": "http.response.body", "body": data})


EXPECTED_AUTH = f"Bearer {args.api_key}".encode()


async def api(scope, receive, send):
    """Everything outside the Engine.IO path: the publish API and health checks."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path in ("/healthz", "/readyz"):
        return await reply(send, 200, {"ok": True})
    if path != "/api/v1/emit":
        return await reply(send, 404, {"error": "not found"})
    if scope["method"] != "POST":
        return await reply(send, 405, {"error": "method not allowed"})
    auth = dict(scope["headers"]).get(b"authorization", b"")
    if not hmac.compare_digest(auth, EXPECTED_AUTH):
        return await reply(send, 401, {"error": "unauthorized"})
    chunks, size = [], 0
    while True:
        msg = await receive()
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        if not msg.get("more_body"):
            break
    if size > MAX_BODY:
        return await reply(send, 413, {"error": "body too large", "field": None})
    try:
        body = json.loads(b"".join(chunks))
    except ValueError:
        return await reply(send, 400, {"error": "invalid JSON", "field": None})
    items = body if isinstance(body, list) else [body]
    delivered = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            return await reply(send, 400, {"error": "missing event", "field": "event"})
        data = item.get("data")
        if not isinstance(data, dict):
            return await reply(send, 400, {"error": "data must be an object", "field": "data"})
        rooms = item.get("rooms") or ["dashboard"]
        if not isinstance(rooms, list) or not all(isinstance(r, str) and ROOM_RE.match(r) for r in rooms):
            return await reply(send, 400, {"error": "invalid rooms", "field": "rooms"})
        delivered += members(rooms)
        await sio.emit(item["event"], data, to=rooms)
    return await reply(send, 200, {"delivered": delivered})


app = socketio.ASGIApp(sio, other_asgi_app=api, socketio_path=args.path.strip("/"))


async def main():
    host, _, port = args.listen.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Linux copies TCP_NODELAY from the listener to every accepted socket; uvloop sets it on each
    # transport too. Either way no Nagle delay: the comparison is fair to every peer.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, int(port)))
    sock.listen(4096)
    sock.set_inheritable(True)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="off",
        log_level="warning",
        access_log=False,
        backlog=4096,
    )
    server = uvicorn.Server(config)
    bound = sock.getsockname()

    async def announce():
        while not server.started:
            await asyncio.sleep(0.01)
        print(f"ringcast listening on http://{bound[0]}:{bound[1]}", flush=True)

    asyncio.get_running_loop().create_task(announce())
    await server.serve(sockets=[sock])


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
