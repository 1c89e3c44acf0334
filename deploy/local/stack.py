"""Local stack orchestrator: PostgreSQL, Kafka, Zipkin, the four services and a sample partner.

The command line of the package beside this file, tsunagu_stack/ (its __init__ maps the parts):
    python deploy/local/stack.py up|down|status|infra-up|seed|restart|logs|token
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tsunagu_stack.cli import main

if __name__ == "__main__":
    sys.exit(main())
