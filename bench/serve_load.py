"""A bounded loopback load generator: a fixed number of GETs over keep-alive HTTP/1.1 connections.

Two shapes: closed loop (`load`: each connection sends its next request when the last one is
answered; gives the most requests per second) and open loop (`load_at_rate`: requests are due
at a fixed rate whatever the server does, and latency counts from the moment a request was due,
so a stalled server shows in the tail instead of slowing the client down).
Plain asyncio streams (no HTTP library) so the client costs little of the two cores it shares
with the server. Every response must be 200.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    requests: int
    concurrency: int  # connections
    seconds: float
    latencies: tuple[float, ...]
    rate: float | None = None  # requests per second asked for (open loop), None for closed loop

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in seconds."""
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return status, bytes(body)
    raise RuntimeError("response without Content-Length or chunked encoding")


def _request(host: str, port: int, path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
    writer.write(request)
    await writer.drain()
    status, body = await _read_response(reader)
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:200]!r}")


async def _worker(host: str, port: int, request: bytes, remaining: list[int], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while remaining[0] > 0:
            remaining[0] -= 1
            started = time.perf_counter()
            await _exchange(reader, writer, request)
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def _run(host: str, port: int, path: str, token: str, requests: int, concurrency: int) -> LoadResult:
    request = _request(host, port, path, token)
    remaining, latencies = [requests], []
    started = time.perf_counter()
    await asyncio.gather(*(_worker(host, port, request, remaining, latencies) for _ in range(concurrency)))
    return LoadResult(requests, concurrency, time.perf_counter() - started, tuple(latencies))


def load(host: str, port: int, path: str, token: str, requests: int, concurrency: int) -> LoadResult:
    """Send `requests` GETs of `path` over `concurrency` connections; fail on any non-200."""
    return asyncio.run(_run(host, port, path, token, requests, concurrency))


async def _run_at_rate(
    host: str, port: int, path: str, token: str, requests: int, rate: float, connections: int
) -> LoadResult:
    request = _request(host, port, path, token)
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    started = time.perf_counter()

    async def one(due: float) -> None:
        reader, writer = await idle.get()  # waiting for a free connection counts as latency
        try:
            await _exchange(reader, writer, request)
        finally:
            idle.put_nowait((reader, writer))
        latencies.append(time.perf_counter() - due)

    tasks = []
    for i in range(requests):
        due = started + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    while not idle.empty():
        idle.get_nowait()[1].close()
    return LoadResult(requests, connections, seconds, tuple(latencies), rate)


def load_at_rate(
    host: str, port: int, path: str, token: str, requests: int, rate: float, connections: int = 32
) -> LoadResult:
    """Send `requests` GETs due at `rate` per second (open loop); latency counts from when each was due."""
    return asyncio.run(_run_at_rate(host, port, path, token, requests, rate, connections))
