#!/usr/bin/env python
"""Exit 0 if the named local service answers: `service_up.py postgres` or `service_up.py redis`."""
import socket
import sys

PORTS = {"postgres": 5432, "redis": 6379}


def main() -> int:
    port = PORTS[sys.argv[1]]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return 0
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
