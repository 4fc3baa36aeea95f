"""``python -m backend api [--host H] [--port P]``: serve the REST API (uvicorn) over this machine's data."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("api", help="serve the REST API (OpenAPI at /openapi.json, docs at /docs)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.api.app import create_app

    # One process, one App: the in-process worker (local queue) and the engines are built once.
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level, proxy_headers=True)
    return 0
