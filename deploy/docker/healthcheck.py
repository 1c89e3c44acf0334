"""Compose's health check of a service container: its /readyz answers 200 (database and broker
reachable). Kubernetes probes the same path itself."""

import os
import sys
import urllib.request

service = os.environ["SERVICE"]
port = os.environ.get(f"{service.upper()}_HTTP_PORT", "8000")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as reply:
        sys.exit(0 if reply.status == 200 else 1)
except OSError:
    sys.exit(1)
