"""A scriptable python-socketio AsyncClient driven over stdin/stdout with JSON lines.

The same protocol as tests/clients/js/driver.js, so the Rust e2e tests drive either language:

  {"cmd":"connect","sock":"a","url":"http://127.0.0.1:PORT","path":"/ws/","token":"JWT",
   "auth":{...},"transports":["websocket"],"parser":"msgpack"}
      `parser: "msgpack"` uses python-socketio's msgpack serializer.
  {"cmd":"emit","sock":"a","event":"subscribe","args":[{"room":"agent:1"}],"ack":7}
  {"cmd":"disconnect","sock":"a"}
  {"cmd":"exit"}

Output lines: {"type":"ready"}, then per socket connect / connect_error {message} / disconnect /
event {event,args} / ack {ack,args}, and {"type":"fatal","message"} for a command it cannot run.
Binary travels as {"$bin":"<base64>"} both ways.
"""

import asyncio
import base64
import json
import sys

import socketio


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def to_wire(v):
    if isinstance(v, list):
        return [to_wire(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and isinstance(v.get("$bin"), str):
            return base64.b64decode(v["$bin"])
        return {k: to_wire(x) for k, x in v.items()}
    return v


def from_wire(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$bin": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, (list, tuple)):
        return [from_wire(x) for x in v]
    if isinstance(v, dict):
        return {k: from_wire(x) for k, x in v.items()}
    return v


class Driver:
    def __init__(self):
        self.sockets = {}
        self.tasks = set()
        # emits leave in command order (asyncio.Lock wakes waiters first come, first served)
        self.emit_lock = asyncio.Lock()

    def spawn(self, coro):
        # keep a reference: asyncio only holds tasks weakly
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def connect(self, cmd):
        name = cmd.get("sock", "s")
        serializer = "msgpack" if cmd.get("parser") == "msgpack" else "default"
        sio = socketio.AsyncClient(reconnection=False, serializer=serializer)
        self.sockets[name] = sio

        async def on_connect():
            out({"type": "connect", "sock": name, "id": sio.get_sid(), "transport": sio.transport()})

        async def on_connect_error(data):
            message = data.get("message") if isinstance(data, dict) else data
            out({"type": "connect_error", "sock": name, "message": message, "data": from_wire(data)})

        async def on_disconnect(reason=None):
            out({"type": "disconnect", "sock": name, "reason": str(reason)})

        async def on_any(event, *args):
            out({"type": "event", "sock": name, "event": event, "args": from_wire(list(args))})

        sio.on("connect", on_connect)
        sio.on("connect_error", on_connect_error)
        sio.on("disconnect", on_disconnect)
        sio.on("*", on_any)

        kwargs = {"namespaces": ["/"], "wait_timeout": 20}
        if cmd.get("path"):
            kwargs["socketio_path"] = cmd["path"]
        if cmd.get("transports"):
            kwargs["transports"] = cmd["transports"]
        if "auth" in cmd:
            kwargs["auth"] = cmd["auth"]
        elif cmd.get("token") is not None:
            kwargs["auth"] = {"token": cmd["token"]}

        async def run():
            try:
                await sio.connect(cmd["url"], **kwargs)
            except socketio.exceptions.ConnectionError as e:
                # the connect_error handler already reported the server's reason
                out({"type": "connect_failed", "sock": name, "message": str(e)})

        self.spawn(run())

    def emit(self, cmd):
        name = cmd.get("sock", "s")
        sio = self.sockets.get(name)
        if sio is None:
            out({"type": "fatal", "message": f"emit on unknown socket {name}"})
            return
        args = to_wire(cmd.get("args", []))
        data = tuple(args) if len(args) != 1 else args[0]
        ack = cmd.get("ack")
        callback = None
        if ack is not None:
            def callback(*reply):
                out({"type": "ack", "sock": name, "ack": ack, "args": from_wire(list(reply))})
        async def send():
            async with self.emit_lock:
                await sio.emit(cmd["event"], data, callback=callback)

        self.spawn(send())

    async def run(self):
        loop = asyncio.get_running_loop()
        out({"type": "ready"})
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break  # the test closed our stdin (or died): leave
            if not line.strip():
                continue
            try:
                cmd = json.loads(line)
            except ValueError as e:
                out({"type": "fatal", "message": f"bad command line: {e}"})
                continue
            kind = cmd.get("cmd")
            if kind == "connect":
                self.connect(cmd)
            elif kind == "emit":
                self.emit(cmd)
            elif kind == "disconnect":
                sio = self.sockets.get(cmd.get("sock", "s"))
                if sio is not None:
                    self.spawn(sio.disconnect())
            elif kind == "exit":
                break
            else:
                out({"type": "fatal", "message": f"unknown command {kind}"})
        for sio in self.sockets.values():
            if sio.connected:
                await sio.disconnect()


if __name__ == "__main__":
    asyncio.run(Driver().run())
