"""The project's own code, reached from the stack: its venv interpreter, and calls into its packages.

The stack itself may run on the system Python, before the venv exists; what it needs from
eventkit or intake (keys, tokens, signed examples) is then asked of the venv in a child process.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tsunagu_stack.core import StackError
from tsunagu_stack.processes import run

# Run by the venv interpreter when this one lacks the package. A ValueError (a bad role, say)
# comes back as one JSON line so the caller can report it without a traceback.
_BRIDGE = (
    "import importlib, json, sys\n"
    "a = json.load(sys.stdin)\n"
    "f = getattr(importlib.import_module(a['module']), a['func'])\n"
    "try:\n"
    "    r = f(*a['args'], **a['kwargs'])\n"
    "except ValueError as e:\n"
    "    sys.exit(json.dumps({'value_error': str(e)}))\n"
    "json.dump(r, sys.stdout)\n"
)


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def python(self) -> str:
        """The interpreter of the project venv, which has every service package installed."""
        override = os.environ.get("STACK_PYTHON")
        if override:
            return override
        venv = self.root / ".venv"
        if sys.prefix != sys.base_prefix and Path(sys.prefix).resolve() == venv.resolve():
            return sys.executable
        candidate = venv / "bin" / "python"
        return str(candidate) if candidate.exists() else sys.executable

    def call(self, module: str, func: str, *args: Any, **kwargs: Any) -> Any:
        """Call a project function: in-process when this interpreter has it, else via the venv."""
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            if self.python == sys.executable:
                raise StackError(
                    f"cannot import {module} ({exc}); run this from the project venv "
                    "(make install, then .venv/bin/python deploy/local/stack.py ...)"
                ) from exc
            mod = None
        if mod is None:
            return self._call_via_venv(module, func, args, kwargs)
        function = getattr(mod, func, None)
        if function is None:
            raise StackError(f"{module} has no {func}() yet")
        return function(*args, **kwargs)

    def _call_via_venv(self, module: str, func: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        python = self.python
        result = run(
            [python, "-c", _BRIDGE],
            input_text=json.dumps({"module": module, "func": func, "args": args, "kwargs": kwargs}),
            cwd=self.root,
            timeout=60,
            check=False,
            what=f"{module}.{func} (via {python})",
        )
        last = (result.stdout.strip().splitlines() or [""])[-1]
        try:
            reply: Any = json.loads(last)
        except ValueError:
            reply = None
        if result.returncode == 0 and reply is not None:
            return reply
        if isinstance(reply, dict) and "value_error" in reply:
            raise ValueError(reply["value_error"])
        raise StackError(
            f"{module}.{func} (via {python}) failed (exit {result.returncode}):\n"
            f"{result.stdout[-4000:].rstrip()}"
        )
