"""The web server: `create_app()` for WSGI servers, or `python server.py [--host H] [--port P]`."""
from __future__ import annotations

import argparse

from clkg.config import Settings
from clkg.web import create_app

__all__ = ["create_app"]


def main() -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description="Serve the Collective Learning Knowledge Graph.")
    parser.add_argument("--host", default=settings.host, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    args = parser.parse_args()
    settings.host, settings.port = args.host, args.port
    create_app(settings).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
