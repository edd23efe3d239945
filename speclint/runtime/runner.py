"""`speclint run SCRIPT [ARGS...]` / `speclint run -m MODULE [ARGS...]`: run a program with the
shim installed (like `coverage run`), then report what the shim found."""
from __future__ import annotations

import os
import runpy
import sys
from dataclasses import dataclass
from typing import List, Optional

from speclint.runtime import context as ctx


@dataclass
class RunOutcome:
    exit_code: int  # the program's own exit code
    diagnostics: list
    model_fn_calls: int
    error: Optional[BaseException] = None  # an uncaught exception of the program


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_program(target: str, args: List[str], *, module: bool = False, mode: str = "warn",
                target_hw: str = "auto", select=None, before_run=None, after_run=None) -> RunOutcome:
    """Run `target` (a path, or a module name with module=True) as __main__ with the shim."""
    from speclint.runtime import patching
    # warn mode collects silently: the diagnostics are printed once, at the end
    patching.install("collect" if mode == "warn" else "raise", target=target_hw, select=select)
    ctx.COLLECTOR.clear()
    if before_run is not None:
        before_run()
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    code, error = 0, None
    try:
        if module:
            sys.argv = [target] + list(args)
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            # as `python script.py` since 3.9: __file__ and sys.argv[0]'s directory are absolute
            path = os.path.abspath(target)
            sys.argv = [target] + list(args)
            sys.path.insert(0, os.path.dirname(path))
            runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException as exc:  # noqa: BLE001 - the program's own failure: report it, like python
        import traceback
        error = exc
        code = 1
        from speclint.runtime.errors import SpecLintError
        if not isinstance(exc, SpecLintError):
            traceback.print_exception(type(exc), exc, exc.__traceback__)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if after_run is not None:  # undo hooks in reverse order: theirs wrap the shim's patches
            after_run()
        patching.uninstall()
    return RunOutcome(code, ctx.COLLECTOR.diagnostics(), ctx.COLLECTOR.model_fn_calls, error)
