"""The web server of a checkout: `python server.py [--host H] [--port P]`, or `server:create_app()` for
WSGI servers. Both live in the package (`clkg.server`, `clkg.web.create_app`); this file only forwards."""
import sys

from clkg.server import create_app, main

__all__ = ["create_app", "main"]

if __name__ == "__main__":
    sys.exit(main())
