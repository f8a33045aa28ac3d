"""A fault-injecting proxy for a distribution registry, for tests of retries.

Every request is forwarded to UPSTREAM on a connection of its own (`Connection: close`), so that
each request gets its own fault decision. On a configurable share of the /v2/ requests it answers
503, resets the connection, or stalls before forwarding. A TLS ClientHello is answered the way Go's
net/http answers one on a plain-HTTP port, so that BuildKit and containerd fall back to HTTP.

Control (JSON): GET /__faults__ reads the settings and counters; POST /__faults__ sets any of
{"rate": 0.3, "modes": ["503", "reset", "stall"], "stall_seconds": 3, "seed": 1}; rate 1.0 makes the
registry look down.
"""

from __future__ import annotations

import asyncio
import json
import os
import random

UPSTREAM_HOST, _, UPSTREAM_PORT = os.environ.get("UPSTREAM", "registry:5000").partition(":")
LISTEN_PORT = int(os.environ.get("PORT", "8080"))
GO_TLS_ANSWER = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

settings = {"rate": float(os.environ.get("FAULT_RATE", "0")), "modes": ["503", "reset", "stall"], "stall_seconds": 3.0}
counters = {"requests": 0, "forwarded": 0, "503": 0, "reset": 0, "stall": 0, "tls_hello": 0}
rng = random.Random(int(os.environ.get("FAULT_SEED", "1")))


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        first = await reader.read(1)
        if not first:
            return
        if first == b"\x16":  # a TLS handshake record: answer like Go's net/http does
            counters["tls_hello"] += 1
            writer.write(GO_TLS_ANSWER)
            await writer.drain()
            return
        head = first + await reader.readuntil(b"\r\n\r\n")
        await serve(head, reader, writer)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    if path.startswith("/__faults__"):
        await control(method, headers, reader, writer)
        return
    counters["requests"] += 1
    if path.startswith("/v2/") and path != "/v2/" and rng.random() < settings["rate"]:
        mode = rng.choice(settings["modes"])
        counters[mode] += 1
        if mode == "503":
            body = b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}'
            writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            return
        if mode == "reset":
            writer.transport.abort()  # RST, no answer
            return
        await asyncio.sleep(settings["stall_seconds"])
    await forward(head, reader, writer)


async def forward(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    counters["forwarded"] += 1
    lines = [ln for ln in head.decode("latin-1").split("\r\n") if ln and not ln.lower().startswith("connection:")]
    upstream_head = ("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode("latin-1")
    up_reader, up_writer = await asyncio.open_connection(UPSTREAM_HOST, int(UPSTREAM_PORT or 5000))
    up_writer.write(upstream_head)

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()
        except ConnectionError:
            pass

    to_upstream = asyncio.create_task(pump(reader, up_writer))
    await pump(up_reader, writer)  # until the registry closes (Connection: close)
    to_upstream.cancel()
    up_writer.close()


async def control(
    method: str, headers: dict[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    if method == "POST":
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        update = json.loads(body or b"{}")
        if "seed" in update:
            rng.seed(int(update.pop("seed")))
        settings.update({k: v for k, v in update.items() if k in settings})
        for key in counters:
            counters[key] = 0
    payload = json.dumps({"settings": settings, "counters": counters}).encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    await writer.drain()


async def main() -> None:
    server = await asyncio.start_server(handle, "0.0.0.0", LISTEN_PORT, limit=1 << 20)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
