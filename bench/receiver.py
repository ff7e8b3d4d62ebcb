"""A minimal webhook receiver for bench/api.py: answers 204 to every POST, at once, and writes
one JSON line per request (when it arrived, its headers of interest and its body) so that the
benchmark can check each delivery's signature and count them.

    python bench/receiver.py --port 8200 --log /tmp/received.jsonl

Plain asyncio (no framework), keep-alive honoured, so that the receiver costs next to nothing
and the time measured is the sender's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import TextIO

KEPT = ("x-mailbox-delivery", "x-mailbox-event", "x-mailbox-signature", "user-agent")


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: TextIO) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _sep, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            record = {"at": arrived, "request": lines[0], "body": body.decode("utf-8")}
            record |= {name: headers.get(name, "") for name in KEPT}
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
            log.flush()
            closing = headers.get("connection", "").lower() == "close"
            writer.write(
                b"HTTP/1.1 204 No Content\r\n"
                + (b"Connection: close\r\n" if closing else b"")
                + b"\r\n"
            )
            await writer.drain()
            if closing:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the sender closed its connection: normal after each delivery
    finally:
        writer.close()


async def serve(host: str, port: int, path: str) -> None:
    with open(path, "a", encoding="utf-8") as log:
        server = await asyncio.start_server(
            lambda reader, writer: handle(reader, writer, log), host, port
        )
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="JSON lines, one per request received")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port, args.log))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
