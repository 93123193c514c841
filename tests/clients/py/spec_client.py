# The "Python Client Example" of shared/spec/websocket-api.md, verbatim apart from the URL and
# the token (argv). Usage: python spec_client.py URL TOKEN. Runs 60 s unless killed.
import sys

URL, TOKEN = sys.argv[1], sys.argv[2]

import asyncio
import socketio

sio = socketio.AsyncClient()

@sio.event
async def connect():
    print("Connected!")
    await sio.emit('subscribe', {'room': 'agent:123'})

@sio.on('agent:status_changed')
async def on_status_change(data):
    print(f"Status changed: {data}")

async def main():
    await sio.connect(
        URL,
        auth={'token': TOKEN},
        namespaces=['/']
    )
    await asyncio.sleep(60)
    await sio.disconnect()

asyncio.run(main())
