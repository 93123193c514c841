"""python-socketio's AsyncRedisManager(write_only=True) publishing to the Redis at
127.0.0.1:argv[1], for tests/cluster/ringcast_python.rs: a room, a list of rooms, everyone, then
the marker to conversation:argv[2]. Each step is one PUBLISH on `socketio`, in this order."""

import asyncio
import sys

import socketio


async def main(port: str, end: str) -> None:
    mgr = socketio.AsyncRedisManager(f"redis://127.0.0.1:{port}", write_only=True)
    # 1. One room (str).
    await mgr.emit("task:updated", {"task_id": "9", "update": {"progress": 9}}, room="task:9")
    # 2. A list of rooms.
    await mgr.emit(
        "task:updated", {"task_id": "10", "update": {"progress": 10}}, room=["task:10", "agent:3"]
    )
    # 3. No room: everyone.
    await mgr.emit("system:alert", {"message": "all", "severity": "info"})
    # 4. The marker.
    await mgr.emit(
        "conversation:message",
        {"conversation_id": end, "message": {"text": "end"}},
        room=f"conversation:{end}",
    )
    print("done", flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
