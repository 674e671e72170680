#!/usr/bin/python3
"""A TCP proxy on loopback that forwards to a server until it receives SIGUSR1, and from then on
accepts connections and never answers: a server that hangs. For the tests that check every
wait stacksim makes has a deadline.

Usage: stall_proxy.py TARGET_PORT   (prints the port it listens on, chosen by the system)
"""
import asyncio
import signal
import sys

stalled = asyncio.Event()


async def pipe(reader, writer):
    try:
        while not stalled.is_set():
            data = await reader.read(65536)
            if not data or stalled.is_set():
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    if not stalled.is_set():
        writer.close()
    else:
        await asyncio.sleep(3600)  # hold the connection open, silent


async def handle(client_reader, client_writer, target_port):
    if stalled.is_set():
        await asyncio.sleep(3600)
        return
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    # Started from a thread that blocks signals (libdispatch's do), it would inherit that mask.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    target_port = int(sys.argv[1])
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, stalled.set)
    server = await asyncio.start_server(lambda r, w: handle(r, w, target_port), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
