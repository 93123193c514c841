"""python-socketio's AsyncRedisManager(write_only=True) publishing a fixed scenario to the Redis
at 127.0.0.1:argv[1], for tests/cluster/python.rs. Each step is one PUBLISH on `socketio`."""

import asyncio
import sys

import socketio


async def main(port: str, skip_sid: str) -> None:
    mgr = socketio.AsyncRedisManager(f"redis://127.0.0.1:{port}", write_only=True)
    # 1. One room (str).
    await mgr.emit("agent:status_changed", {"agent_id": "7", "new_status": "busy"}, room="agent:7")
    # 2. A list of rooms.
    await mgr.emit("task:assigned", {"task_id": "1"}, room=["task:1", "agent:7"])
    # 3. Everyone, two arguments (a tuple), skipping one sid.
    await mgr.emit("system:alert", ("hello", 2), skip_sid=skip_sid)
    # 4. Binary (base64 attachments).
    await mgr.emit("blob", b"\x01\x02\x03", room="agent:7")
    # 5. A room nobody on the ringcast node is in.
    await mgr.emit("task:updated", {"task_id": "404"}, room="task:404")
    # 6. The end marker, no data.
    await mgr.emit("done", None)
    print("done", flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
