"""The baseline for raw-frame throughput: a plain grpcio server streaming same-size byte messages.

No protobuf, no camera, no encoding: one pre-built ``bytes`` object sent as fast
as gRPC's flow control allows. ``python -m bench.plain_stream SIZE_BYTES`` prints
``listening on PORT`` and serves until killed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import grpc

METHOD = "/bench.PlainStream/Stream"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


async def serve(size_bytes: int) -> None:
    payload = bytes(size_bytes)

    async def stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        while True:
            yield payload

    handler = grpc.method_handlers_generic_handler(
        "bench.PlainStream", {"Stream": grpc.unary_stream_rpc_method_handler(stream)}
    )
    server = grpc.aio.server(
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ]
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"listening on {port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
