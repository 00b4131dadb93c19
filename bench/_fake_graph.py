"""A lean fake of Meta's Graph API for the end-to-end benchmark: a real HTTP/1.1 server (keep-alive).

Run as ``python bench/_fake_graph.py --port 8765 --token T``. It answers
``POST /{version}/{phone-number-id}/messages`` like the Cloud API (a new wamid per message),
refuses a wrong bearer token with Graph's error 190, and records when each message arrived and
what it said (read receipts are counted apart). ``GET /stats`` returns the record (times and the reply texts); ``POST /reset``
clears it. Written on asyncio's protocol layer rather than ``http.server`` so that the fake costs
a fraction of what it measures (the bench counts Fluxo's CPU, not this server's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

STATE: dict = {"sent": [], "refused": 0, "read": 0}


def _response(status: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: keep-alive\r\n\r\n").encode() + body


class GraphProtocol(asyncio.Protocol):
    token = ""

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4: head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length:]
            self.transport.write(self.handle(method, path, headers, body))

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        if method == "GET" and path == "/stats":
            return _response("200 OK", json.dumps(STATE).encode())
        if method == "POST" and path == "/reset":
            STATE["sent"], STATE["refused"], STATE["read"] = [], 0, 0
            return _response("200 OK", b"{}")
        if method == "POST" and path.endswith("/messages"):
            if headers.get("authorization") != f"Bearer {self.token}":
                STATE["refused"] += 1
                return _response("401 Unauthorized", json.dumps({"error": {
                    "message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}).encode())
            message = json.loads(body or b"{}")
            if message.get("status") == "read":  # a read receipt (blue ticks), not a reply
                STATE["read"] += 1
                return _response("200 OK", b'{"success": true}')
            text = ((message.get("text") or {}).get("body")) or ""
            wamid = f"wamid.fake.{len(STATE['sent'])}.{time.monotonic_ns()}"
            STATE["sent"].append([time.time(), message.get("to", ""), text])
            return _response("200 OK", json.dumps({
                "messaging_product": "whatsapp", "contacts": [{"input": message.get("to", ""),
                                                               "wa_id": message.get("to", "")}],
                "messages": [{"id": wamid}]}).encode())
        return _response("404 Not Found", b'{"error": {"message": "unknown path", "code": 100}}')


async def main(port: int, token: str) -> None:
    GraphProtocol.token = token
    loop = asyncio.get_running_loop()
    server = await loop.create_server(GraphProtocol, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    options = parser.parse_args()
    asyncio.run(main(options.port, options.token))
