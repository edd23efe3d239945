"""Reading what a user pastes: a traceback, the last error line alone, or a whole training log.

Handled: Python tracebacks (with Python 3.11's `^^^^` markers), chained exceptions ("During handling
of the above exception..." / "The above exception was the direct cause..."), IPython / Colab
tracebacks (old `path in func()` / `----> 5 code` and IPython 8 `File path:N, in func()` / `Cell In[5],
line 3`, with collapsed "25 frames"), TF's and absl's logging prefixes (`INFO:tensorflow:`,
`W1202 09:28:54.136 140277 file.py:149] `, `2026-12-02 09:28:49.491689: I tensorflow/...] `),
TPUEstimator's "Error recorded from training_loop: ..." records, ANSI colours and a uniform `> `
(Markdown quote) prefix. TF's op-creation stacks ("Traceback for my_loss:" in TF's info log,
"Original stack trace for 'Reshape':" and "Detected at node 'x' defined at" in op errors) are kept per
op: they say where the user's code created the op an error names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# (pattern, level group name or None): each strips one kind of logging prefix from a line.
_PREFIXES = (
    # absl: W1202 09:28:54.136067 140277568105344 module_wrapper.py:149] message
    re.compile(r"^(?P<level>[IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+[^\s\]]+:\d+\] ?"),
    # TF's C++ log: 2026-12-02 09:28:49.491689: I tensorflow/core/util/port.cc:113] message
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<level>[IWEF]) [^\s\]]+:\d+\] ?"),
    # Python logging's default format (tf.compat.v1.logging): INFO:tensorflow:message
    re.compile(r"^(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL):(?:tensorflow|absl|root|[a-z_][\w.]*):"),
    # a bare timestamp that a log collector put in front (Cloud logging, `ts`, ...)
    re.compile(r"^\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?(?: [A-Z]{3,4})?\s+"
               r"(?:(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+)?"),
)
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):?\s*$")
_IPY_RULE = re.compile(r"^-{20,}\s*$")
_IPY_HEADER = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)\s+Traceback \(most recent call last\)\s*$")
_CHAINED = re.compile(r"^\s*(During handling of the above exception, another exception occurred|"
                      r"The above exception was the direct cause of the following exception):?\s*$")
_FILE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+?))?\s*$')
_IPY8_FILE = re.compile(r"^\s*File (?P<path>\S.*?):(?P<line>\d+), in (?P<func>[^\s(]+)")
_IPY8_CELL = re.compile(r"^\s*(?P<path>Cell In\s*\[\d*\]), line (?P<line>\d+)(?:, in (?P<func>[^\s(]+))?")
_IPY_FILE = re.compile(r"^(?P<path>(?:[A-Za-z]:)?[^\s].*?) in (?P<func>[\w<>.]+)(?:\(.*\)?)?\s*$")
_IPY_CONTEXT = re.compile(r"^\s*(?P<arrow>-*>)?\s*(?P<line>\d+)(?: (?P<code>.*))?$")
_COLLAPSED = re.compile(r"^\s*(\d+ frames?|\.\.\.|\[\.\.\. skipping .*\])\s*$")
_CARETS = re.compile(r"^\s*[\^~\s]+$")
_EXC_NAME = r"(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt|Failure)|StopIteration|GeneratorExit)"
_EXC_LINE = re.compile(rf"^(?P<type>{_EXC_NAME})(?::\s?(?P<msg>.*))?$")
_RECORDED = re.compile(r"^Error recorded from (?P<where>[\w ]+?): (?P<msg>.*)$")
_LOG_FROM = re.compile(r"^From (?P<path>\S.*?):(?P<line>\d+): ")
_OP_STACK = re.compile(r"^\s*(?:Traceback for (?P<op1>\S+):|Original stack trace for '(?P<op2>[^']+)':|"
                       r"Detected at node '?(?P<op3>[^'\s]+)'? defined at \(most recent call last\):)\s*$")


MAX_MESSAGE_LINES = 400
MAX_TEXT_CHARS = 64 * 1024  # a text with no error line in it is read from its end, where the error is


@dataclass(frozen=True)
class Frame:
    path: str  # as printed
    line: Optional[int]
    function: str
    source: Optional[str] = None  # the source line the traceback showed, stripped

    @property
    def qualified(self) -> str:
        """`file.py:function`, how tpu_failures' `within` names TF functions."""
        return f"{_basename(self.path)}:{self.function}"


def _basename(path: str) -> str:
    return re.split(r"[/\\]", path)[-1]


@dataclass
class Event:
    """One error (or one log record) found in the input."""

    exc_type: Optional[str]  # as printed ("tensorflow.python.framework.errors_impl.InvalidArgumentError")
    message: str
    frames: Tuple[Frame, ...] = ()
    kind: str = "exception"  # "traceback" | "exception" | "recorded" | "log" | "text"
    input_line: int = 1  # 1-based line of the input where it starts
    chain: int = 0  # errors of one exception chain share this number
    partial: bool = False  # the traceback has collapsed / elided frames

    @property
    def type_name(self) -> Optional[str]:
        return self.exc_type.rsplit(".", 1)[-1] if self.exc_type else None


@dataclass
class Parsed:
    events: List[Event] = field(default_factory=list)
    op_stacks: Dict[str, Tuple[Frame, ...]] = field(default_factory=dict)
    log_files: List[Frame] = field(default_factory=list)  # files TF's log records name ("From x.py:34: ...")


@dataclass
class _Line:
    text: str
    record: bool = False  # the first line of a log record (a prefix was stripped)
    level: Optional[str] = None


def _normalize(text: str) -> List[_Line]:
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    raw = text.split("\n")
    quoted = [ln for ln in raw if ln.strip()]
    if quoted and sum(1 for ln in quoted if ln.lstrip().startswith(">")) >= 0.8 * len(quoted):
        raw = [re.sub(r"^\s*> ?", "", ln) for ln in raw]  # a Markdown quote of the whole paste
    out = []
    for ln in raw:
        ln = ln.rstrip()
        record, level = False, None
        for _ in range(3):  # an absl line may also carry a collector's timestamp
            for pat in _PREFIXES:
                m = pat.match(ln)
                if m and m.end() > 0:
                    ln = ln[m.end():]
                    record, level = True, level or m.groupdict().get("level")
                    break
            else:
                break
        out.append(_Line(ln, record, level))
    return out


class _Reader:
    def __init__(self, lines: List[_Line]):
        self.lines = lines
        self.events: List[Event] = []
        self.chain = -1
        self.chained_next = False

    # -- frames --------------------------------------------------------------------------------
    def _frames(self, i: int) -> Tuple[List[Frame], int, bool]:
        """Frames from line i on; returns (frames, index of the first line after them, partial)."""
        frames: List[Frame] = []
        partial = False
        n = len(self.lines)
        while i < n:
            text = self.lines[i].text
            if not text.strip():
                i += 1
                continue
            m = _FILE.match(text)
            if m:
                src, i = self._source_after(i + 1, int(m.group("line")))
                frames.append(Frame(m.group("path"), int(m.group("line")), m.group("func") or "<module>", src))
                continue
            m = _IPY8_FILE.match(text) or _IPY8_CELL.match(text)
            if m:
                i, line, src = self._ipython_context(i + 1, int(m.group("line")))
                frames.append(Frame(m.group("path"), line, m.group("func") or "<module>", src))
                continue
            if _COLLAPSED.match(text):
                partial = True
                i += 1
                continue
            if _EXC_LINE.match(text) or _CHAINED.match(text) or _TRACEBACK.match(text):
                break
            m = _IPY_FILE.match(text)
            if m and not text.startswith(" "):
                i, line, src = self._ipython_context(i + 1, None)
                frames.append(Frame(m.group("path"), line, m.group("func"), src))
                continue
            break
        return frames, i, partial

    def _source_after(self, i: int, line: int) -> Tuple[Optional[str], int]:
        """The source line (and caret lines) printed under a `File "...", line N` entry."""
        src = None
        n = len(self.lines)
        if i < n:
            text = self.lines[i].text
            if text.startswith("    ") and not _FILE.match(text) and text.strip():
                src = text.strip()
                i += 1
                while i < n and self.lines[i].text.strip() and _CARETS.match(self.lines[i].text):
                    i += 1
        return src, i

    def _ipython_context(self, i: int, line: Optional[int]) -> Tuple[int, Optional[int], Optional[str]]:
        """IPython's context lines (`   370 code`, `--> 371 code`): the arrow line is the frame's line."""
        src = None
        n = len(self.lines)
        while i < n:
            text = self.lines[i].text
            m = _IPY_CONTEXT.match(text)
            if not text.strip():
                i += 1
                if i < n and (_IPY_CONTEXT.match(self.lines[i].text) or not self.lines[i].text.strip()):
                    continue
                break
            if not m or _COLLAPSED.match(text):
                break
            if m.group("arrow"):
                line = int(m.group("line"))
                src = (m.group("code") or "").strip() or None
            i += 1
        return i, line, src

    # -- messages ------------------------------------------------------------------------------
    def _message(self, first: str, i: int) -> Tuple[str, int]:
        """`first` plus the lines that continue it, up to the next record, traceback or chain link
        (at most MAX_MESSAGE_LINES: TF's longest messages, NodeDefs and op stacks, are far shorter)."""
        parts = [first]
        n = min(len(self.lines), i + MAX_MESSAGE_LINES)
        blanks = 0
        while i < n:
            ln = self.lines[i]
            if ln.record or _TRACEBACK.match(ln.text) or _CHAINED.match(ln.text) or _IPY_RULE.match(ln.text) \
                    or _IPY_HEADER.match(ln.text):
                break
            if not ln.text.strip():
                blanks += 1
                if blanks >= 2:
                    break
            else:
                blanks = 0
            parts.append(ln.text)
            i += 1
        return "\n".join(parts).strip(), i

    def _add(self, event: Event) -> None:
        if self.chained_next and self.events:
            event.chain = self.chain
        else:
            self.chain += 1
            event.chain = self.chain
        self.chained_next = False
        self.events.append(event)

    def _frame_start(self, i: int) -> bool:
        text = self.lines[i].text
        if _FILE.match(text) or _IPY8_FILE.match(text) or _IPY8_CELL.match(text):
            return True
        nxt = self.lines[i + 1].text if i + 1 < len(self.lines) else ""
        return bool(_IPY_FILE.match(text) and not text.startswith(" ") and _IPY_CONTEXT.match(nxt))

    # -- the whole input -----------------------------------------------------------------------
    def read(self) -> None:
        i, n = 0, len(self.lines)
        while i < n:
            ln = self.lines[i]
            text = ln.text
            if _TRACEBACK.match(text) or (_IPY_RULE.match(text) and i + 1 < n and _IPY_HEADER.match(self.lines[i + 1].text)) \
                    or _IPY_HEADER.match(text):
                start = i
                i += 2 if _IPY_RULE.match(text) else 1
                frames, i, partial = self._frames(i)
                while i < n and not self.lines[i].text.strip():
                    i += 1
                m = _EXC_LINE.match(self.lines[i].text) if i < n else None
                if m:
                    msg, i = self._message(m.group("msg") or "", i + 1)
                    self._add(Event(m.group("type"), msg, tuple(frames), "traceback", start + 1, partial=partial))
                elif frames:  # a traceback cut off before its exception line
                    self._add(Event(None, "", tuple(frames), "traceback", start + 1, partial=True))
                continue
            if _CHAINED.match(text):
                self.chained_next = True
                i += 1
                continue
            if not ln.record and self._frame_start(i):  # frames pasted without their "Traceback" header
                start = i
                frames, i, partial = self._frames(i)
                while i < n and not self.lines[i].text.strip():
                    i += 1
                m = _EXC_LINE.match(self.lines[i].text) if i < n else None
                if m and frames:
                    msg, i = self._message(m.group("msg") or "", i + 1)
                    self._add(Event(m.group("type"), msg, tuple(frames), "traceback", start + 1, partial=True))
                elif frames:
                    self._add(Event(None, "", tuple(frames), "traceback", start + 1, partial=True))
                continue
            stripped = text.strip()
            m = _EXC_LINE.match(stripped)
            if m and m.group("msg") is not None and not m.group("type").endswith("Warning"):
                msg, j = self._message(m.group("msg"), i + 1)
                self._add(Event(m.group("type"), msg, (), "exception", i + 1))
                i = j
                continue
            if ln.record:
                m = _RECORDED.match(stripped)
                msg, j = self._message(m.group("msg") if m else stripped, i + 1)
                if msg:
                    kind = "recorded" if m else "log"
                    self.events.append(Event(None, msg, (), kind, i + 1, chain=-1))
                i = max(j, i + 1)
                continue
            i += 1


def _op_stacks(lines: List[_Line]) -> Dict[str, Tuple[Frame, ...]]:
    """TF's op-creation stacks, by op name (the first one printed for each op)."""
    out: Dict[str, Tuple[Frame, ...]] = {}
    n = len(lines)
    for i, ln in enumerate(lines):
        m = _OP_STACK.match(ln.text)
        if not m:
            continue
        op = m.group("op1") or m.group("op2") or m.group("op3")
        frames = []
        j = i + 1
        while j < n:
            f = _FILE.match(lines[j].text)
            if not f:
                break
            frames.append(Frame(f.group("path"), int(f.group("line")), f.group("func") or "<module>"))
            j += 1
        if frames and op not in out:
            out[op] = tuple(frames)
    return out


def read(text: str) -> Parsed:
    """The errors in `text`. When it holds no exception line, no traceback and no log record, the whole
    text is taken as one error message (the message of the last error line, pasted alone)."""
    lines = _normalize(text)
    reader = _Reader(lines)
    reader.read()
    events = reader.events
    if not events:
        body = "\n".join(ln.text for ln in lines).strip()[-MAX_TEXT_CHARS:]
        if body:
            events = [Event(None, body, (), "text", 1)]
    log_files = []
    for ln in lines:
        m = _LOG_FROM.match(ln.text) if ln.record else None
        if m and all(f.path != m.group("path") for f in log_files):
            log_files.append(Frame(m.group("path"), int(m.group("line")), "<log>"))
    return Parsed(events, _op_stacks(lines), log_files)
