"""Terminal colour for the text reports: the escapes `click.style(text, fg=..., bold=...)` writes,
without importing click (a plain `speclint FILE` run never loads it: speclint.launcher).
tests/test_launcher.py compares them with click's."""
from __future__ import annotations

COLORS = {"black": 30, "red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36, "white": 37}
RESET = "\033[0m"


def style(text, fg: str | None = None, bold: bool | None = None) -> str:
    """`text` in colour `fg` (a name of COLORS), bold when `bold`, then every attribute reset."""
    head = f"\033[{COLORS[fg]}m" if fg is not None else ""
    if bold is not None:
        head += f"\033[{1 if bold else 22}m"
    return f"{head}{text}{RESET}"
