"""The default text format (`--output-format full`), like ruff's: per diagnostic a header line
`path:line:col: CODE [name] statement`, the source lines around it with the flagged range
underlined, the explanation and the fix as `help:` lines, and the rule's documentation link.

    bad.py:8:64: SL005 [outfeed-scalar-tensor] `host_call` tensor[0] `loss` is a scalar (rank 0)
      |
    6 |         return []
    7 |     return tf.estimator.tpu.TPUEstimatorSpec(
    8 |         mode, loss=loss, train_op=tf.no_op(), host_call=(host_fn, [loss]))
      |                                                                    ^^^^ SL005
      |
      = help: TPUEstimator concatenates outfed tensors from every TPU core along dimension 0, ...
      = help: Give it a batch dimension, e.g. `tf.reshape(loss, [1])` (...), or pass the ...
      = docs: file:///.../SL005-outfeed-scalar-tensor.md

A range over several lines is drawn as rustc and ruff draw it (`_^` at its start, `|` beside its
lines, `|_^` at its end); more than `FOLD_AFTER` lines are folded to their first and last two.
Tabs are shown as four spaces and wide characters as two columns, so the underline stays under
the expression.  Help text is wrapped to `width` columns; the header line is never wrapped (it is
what editors and CI logs match).  When the source cannot be read (stdin without text, a file gone)
the frame is left out.  The statistics and the summary line are the concise format's.
"""
from __future__ import annotations

import textwrap
import unicodedata

from speclint.report import message, text
from speclint.report.sources import Sources
from speclint.report.style import style

CONTEXT = 2  # lines shown before and after the flagged ones (blank lines at the edges dropped)
FOLD_AFTER = 6  # a range over more lines shows only its first and last two
DEFAULT_WIDTH = 100
TAB = "    "


def render(result, *, color: bool = False, quiet: bool = False, statistics: bool = False,
           width: int = DEFAULT_WIDTH, sources: Sources | None = None) -> str:
    if statistics:
        return text.render(result, color=color, quiet=quiet, statistics=True)
    sources = sources or Sources()
    out: list[str] = []
    for d in result.diagnostics:
        out.extend(diagnostic(d, sources.lines(d.path), color=color, width=width, mark=text.marker(d, result)))
        out.append("")
    if not quiet:
        out.append(text.summary(result))
        fixes = text.fix_summary(result)
        if fixes:
            out.append(fixes)
    return "\n".join(out) + ("\n" if out else "")


def diagnostic(d, lines: list[str] | None, *, color: bool = False, width: int = DEFAULT_WIDTH,
               mark: str = "") -> list[str]:
    """The lines that show one diagnostic (`mark`: `[*] ` when it is fixable)."""
    short, helps = message.parts(d)
    st = _Style(color, d.severity)
    out = [f"{text.location(d, color)} {st.code(d.code)} {mark}[{d.name}] {short}"]
    gutter, frame = _frame(d, lines, st) if lines else (1, [])
    out.extend(frame)
    pad = " " * (gutter + 1)  # "=" under the gutter's "|", as ruff aligns it
    for h in helps:
        out.extend(_labelled(pad, "help", h, width, st))
    if d.fix:
        how = "--fix" if d.fix.get("applicability") == "safe" else "--fix --unsafe-fixes"
        out.extend(_labelled(pad, "fix", f"{d.fix['message']} ({d.fix.get('applicability')} fix: `{how}`)", width, st))
    if d.url:
        out.append(f"{pad}{st.label('= docs:')} {d.url}")
    return out


def _labelled(pad: str, label: str, body: str, width: int, st: _Style) -> list[str]:
    head = f"{pad}= {label}: "
    lines = textwrap.wrap(body, width=max(width, len(head) + 20), initial_indent=head,
                          subsequent_indent=" " * len(head), break_long_words=False,
                          break_on_hyphens=False)
    if lines:
        lines[0] = pad + st.label(f"= {label}:") + lines[0][len(pad) + len(label) + 3:]
    return lines


# ---- the code frame ----------------------------------------------------------------------------
def _frame(d, lines: list[str], st: _Style):
    """(gutter width, lines): the source around the diagnostic with its range marked; no lines
    when the diagnostic's line is not in the file."""
    n = len(lines)
    if not 0 < d.line <= n:
        return 1, []
    start = d.line
    end = min(max(d.end_line, start), n)
    first = max(1, start - CONTEXT)  # context: up to CONTEXT lines, without blank ones at the edges
    while first < start and not lines[first - 1].strip():
        first += 1
    last = min(n, end + CONTEXT)
    while last > end and not lines[last - 1].strip():
        last -= 1
    shown = list(range(first, last + 1))
    if end - start + 1 > FOLD_AFTER:
        shown = [i for i in shown if i < start + 2 or i > end - 2]
    width = len(str(shown[-1]))
    empty = " " * width + " " + st.gutter("|")
    out = [empty]
    multi = end > start
    s_col = _display(lines[start - 1], d.column - 1)
    previous = None
    for i in shown:
        if previous is not None and i != previous + 1:
            out.append("...")
        previous = i
        src = _expand(lines[i - 1])
        num = st.gutter(f"{i:>{width}} |")
        if not multi:
            out.append(f"{num} {src}".rstrip())
            if i == start:
                e_col = _display(lines[i - 1], d.end_column - 1) if d.end_line == d.line else len(src)
                carets = "^" * max(1, e_col - s_col)
                out.append(f"{empty} {' ' * s_col}{st.mark(carets + ' ' + d.code)}")
            continue
        bar = st.mark("|") if start < i <= end else " "
        out.append(f"{num} {bar} {src}".rstrip())
        if i == start:
            out.append(f"{empty}  {st.mark('_' * (s_col + 1) + '^')}")
        elif i == end:
            e_col = _display(lines[i - 1], max(d.end_column - 2, 0))
            out.append(f"{empty} {st.mark('|' + '_' * (e_col + 1) + '^ ' + d.code)}")
    out.append(empty)
    return width, out


def _char_width(ch: str) -> int:
    if ch == "\t":
        return len(TAB)
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _display(line: str, index: int) -> int:
    """The display column (0-based) of code point `index` of `line`."""
    return sum(_char_width(ch) for ch in line[:max(index, 0)]) + max(index - len(line), 0)


def _expand(line: str) -> str:
    out = []
    for ch in line:
        if ch == "\t":
            out.append(TAB)
        elif unicodedata.category(ch) == "Cc":
            out.append(" ")  # form feeds and other control characters: one column each
        else:
            out.append(ch)
    return "".join(out)


class _Style:
    def __init__(self, color: bool, severity: str):
        self.color = color
        self.fg = "red" if severity == "error" else "yellow"

    def code(self, s: str) -> str:
        return style(s, fg=self.fg, bold=True) if self.color else s

    def mark(self, s: str) -> str:
        return style(s, fg=self.fg, bold=True) if self.color else s

    def gutter(self, s: str) -> str:
        return style(s, fg="blue", bold=True) if self.color else s

    def label(self, s: str) -> str:
        return style(s, bold=True) if self.color else s
