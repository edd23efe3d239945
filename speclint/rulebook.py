"""The rulebook: one Markdown file per rule in `rules/`, the single source of truth.

Each file starts with TOML front matter between `+++` lines (code, name, severity, engines,
summary, and the message templates both engines format), followed by the documentation with the
sections What it does / Why is this bad? / What TensorFlow does / Example / Use instead (and
Fix safety, for a rule whose checks attach fixes).

A message template is a pair `["short statement", "explanation and fix"]`: the message is the two
joined by `: ` (by a space when the statement ends with `;` or `.`), and the full text format
shows the statement on the diagnostic's header line and the explanation as `help:` lines
(`Rule.short_of` finds the statement of a formatted message).  A plain string is a fragment that
another message embeds (`fix_*`), or a message with no explanation.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from speclint.record import Frozen

_FRONT_MATTER = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n?(.*)\Z", re.S)
_CODE_RE = re.compile(r"^SL\d{3}$")
SEVERITIES = ("error", "warning")
ENGINES = ("static", "runtime")

# Where a rule's documentation lives: the ONE place every consumer (JSON `url`, SARIF `helpUri`,
# the language server's `codeDescription.href`, flake8 output) takes rule links from.  speclint has
# no hosted documentation site, so by default a link is the `file:` URI of the rule's Markdown
# file shipped inside the installed package (the same text `speclint rule CODE` prints): it opens
# in an editor on the machine that produced it.  When the docs are published, set a template here,
# e.g. "https://speclint.example/rules/{code}-{name}/" (fields: code, name, version).
DOCS_URL: str | None = None


class RulebookError(Exception):
    """A rule file is malformed (a bug in speclint's own data, reported as exit 2)."""


class Rule(Frozen):
    FIELDS = ("code", "name", "severity", "summary", "engines", "doc", "path", "messages", "shorts", "tpu_only",
              "default_enabled")
    COMPARED = ("code", "name", "severity", "summary", "engines", "doc", "path", "tpu_only", "default_enabled")

    code: str
    name: str
    severity: str
    summary: str
    engines: tuple[str, ...]
    doc: str
    path: Path
    messages: dict[str, str]  # whole templates
    shorts: dict[str, str]  # their statements
    tpu_only: bool
    default_enabled: bool

    def __init__(self, code: str, name: str, severity: str, summary: str, engines: tuple[str, ...], doc: str,
                 path: Path, messages: dict[str, str] | None = None, shorts: dict[str, str] | None = None,
                 tpu_only: bool = False, default_enabled: bool = True) -> None:
        self._set(code=code, name=name, severity=severity, summary=summary, engines=engines, doc=doc, path=path,
                  messages={} if messages is None else messages, shorts={} if shorts is None else shorts,
                  tpu_only=tpu_only, default_enabled=default_enabled)

    @property
    def url(self) -> str:
        return docs_url(self.code, self.name)

    def message(self, variant: str = "default", **params) -> str:
        try:
            template = self.messages[variant]
        except KeyError:
            raise KeyError(f"{self.code} has no message variant {variant!r}") from None
        return template.format(**params)

    def short_of(self, message: str) -> str | None:
        """The short statement of `message` (a message of this rule, formatted), as the full text
        format shows it (without the `;` or `.` that joins it to the explanation), or None when
        no template of the rule matches."""
        for variant in self.shorts:
            m = _template_re(self.code, variant, self.shorts[variant], self.messages[variant]).match(message)
            if m:
                return m.group("short").rstrip(";.")
        return None

    def examples(self) -> dict[str, list]:
        """The ```python blocks of each `## Section` of the doc: {"Example": [...], ...}."""
        out: dict[str, list] = {}
        section = None
        for m in re.finditer(r"^## ([^\n]+)$|^```python\n(.*?)^```", self.doc, re.S | re.M):
            if m.group(1):
                section = m.group(1).strip()
            elif section is not None:
                out.setdefault(section, []).append(m.group(2))
        return out


def joined(short: str, rest: str) -> str:
    """A message from its statement and explanation (see the module docstring)."""
    return short + (" " if short.endswith((";", ".")) else ": ") + rest


_FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


def _pattern(template: str) -> str:
    """A regular expression for the texts `template` formats to (each field: any text)."""
    out, last = [], 0
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[last:m.start()]))
        out.append(re.escape(m.group(0)[0]) if m.group(0) in ("{{", "}}") else "(?:.*?)")
        last = m.end()
    out.append(re.escape(template[last:]))
    return "".join(out)


@functools.lru_cache(maxsize=None)
def _template_re(code: str, variant: str, short: str, whole: str):
    rest = whole[len(joined(short, "")):]
    return re.compile(f"(?P<short>{_pattern(short)}){re.escape(joined(short, '')[len(short):])}{_pattern(rest)}\\Z",
                      re.S)


def _messages(name: str, table: dict) -> tuple[dict[str, str], dict[str, str]]:
    whole, shorts = {}, {}
    for variant, value in table.items():
        if isinstance(value, str):
            whole[variant] = value
        elif isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value):
            whole[variant], shorts[variant] = joined(*value), value[0]
        else:
            raise RulebookError(f"{name}: message {variant!r} must be a string or a pair "
                                "[\"short statement\", \"explanation\"]")
    return whole, shorts


def rules_dir() -> Path:
    """`speclint/_rules` inside an installed wheel, else `rules/` beside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_rules", here.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise RulebookError(f"no rules directory found near {here}")


@functools.lru_cache(maxsize=None)
def docs_url(code: str | None = None, name: str | None = None) -> str:
    """The documentation URL of rule `code`/`name`, or of the rule index when both are None."""
    if DOCS_URL is not None:
        from speclint import __version__

        if code is None:
            return DOCS_URL.split("{", 1)[0]
        return DOCS_URL.format(code=code, name=name, version=__version__)
    directory = rules_dir()
    if code is None:
        return directory.as_uri() + "/"
    return (directory / f"{code}-{name}.md").as_uri()


def toml():
    """tomllib (tomli before Python 3.11), imported when a TOML text is first read: a run that
    reads no rule file and no config file never loads it (start-up of `speclint FILE`)."""
    try:  # Python 3.11+
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - exercised on Python < 3.11
        import tomli as tomllib
    return tomllib


def parse_rule(path: Path, known: dict | None = None, used: dict | None = None) -> Rule:
    """The rule of the file at `path`.  `known`: {front matter text: its TOML, parsed} (load()
    keeps it between runs: tomllib costs ~15 ms for the whole rulebook); `used` is given the
    entry of this file."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    m = _FRONT_MATTER.match(text)
    if not m:
        raise RulebookError(f"{path.name}: missing +++ TOML front matter")
    meta = known.get(m.group(1)) if known is not None else None
    if meta is None:
        tomllib = toml()
        try:
            meta = tomllib.loads(m.group(1))
        except tomllib.TOMLDecodeError as exc:
            raise RulebookError(f"{path.name}: {exc}") from None
    if used is not None:
        used[m.group(1)] = meta
    for key in ("code", "name", "severity", "summary", "engines", "messages"):
        if key not in meta:
            raise RulebookError(f"{path.name}: front matter lacks `{key}`")
    if not _CODE_RE.match(meta["code"]) or not path.name.startswith(meta["code"] + "-"):
        raise RulebookError(f"{path.name}: code {meta['code']!r} does not match the file name")
    if path.stem != f"{meta['code']}-{meta['name']}":
        raise RulebookError(f"{path.name}: file must be named {meta['code']}-{meta['name']}.md")
    if meta["severity"] not in SEVERITIES:
        raise RulebookError(f"{path.name}: severity must be one of {SEVERITIES}")
    if not set(meta["engines"]) <= set(ENGINES):
        raise RulebookError(f"{path.name}: engines must be a subset of {ENGINES}")
    messages, shorts = _messages(path.name, meta["messages"])
    return Rule(
        code=meta["code"],
        name=meta["name"],
        severity=meta["severity"],
        summary=meta["summary"],
        engines=tuple(meta["engines"]),
        doc=m.group(2).strip() + "\n",
        path=path,
        messages=messages,
        shorts=shorts,
        tpu_only=bool(meta.get("tpu_only", False)),
        default_enabled=bool(meta.get("default_enabled", True)),
    )


class Rulebook:
    def __init__(self, rules):
        self.rules = sorted(rules, key=lambda r: r.code)
        self.by_code = {r.code: r for r in self.rules}
        self.by_name = {r.name: r for r in self.rules}
        if len(self.by_code) != len(self.rules) or len(self.by_name) != len(self.rules):
            raise RulebookError("duplicate rule code or name in the rulebook")

    def __iter__(self):
        return iter(self.rules)

    def __getitem__(self, code: str) -> Rule:
        return self.by_code[code]

    def lookup(self, code_or_name: str) -> Rule | None:
        key = code_or_name.strip()
        return self.by_code.get(key.upper()) or self.by_name.get(key.lower())

    def expand(self, selector: str) -> list:
        """Codes a selector means: a code, a code prefix (`SL0`), a rule name, or `ALL`."""
        sel = selector.strip()
        if sel.upper() == "ALL":
            return [r.code for r in self.rules]
        rule = self.lookup(sel)
        if rule:
            return [rule.code]
        if re.fullmatch(r"SL\d{0,3}", sel.upper()):
            return [r.code for r in self.rules if r.code.startswith(sel.upper())]
        return []


def markdown_table(book: Rulebook) -> str:
    """The rules table of the README (kept identical by a test)."""
    lines = ["| Code | Name | Severity | Engines | One line |", "| --- | --- | --- | --- | --- |"]
    for r in book:
        severity = r.severity + (" (TPU)" if r.tpu_only else "")
        summary = r.summary.replace("|", "\\|") + ("" if r.default_enabled else " *Off by default.*")
        lines.append(f"| {r.code} | `{r.name}` | {severity} | {', '.join(r.engines)} | {summary} |")
    return "\n".join(lines) + "\n"


# The rules' front matter as parsed, keyed by its text, kept beside the bytecode (speclint.bytecache).
PARSED_FRONT_MATTER = "rulebook-front-matter.v1"


@functools.lru_cache(maxsize=1)
def load() -> Rulebook:
    from speclint import bytecache

    where = bytecache.path_for(PARSED_FRONT_MATTER)
    known = bytecache.read(where)
    known = known if isinstance(known, dict) else {}
    used: dict = {}
    book = Rulebook(parse_rule(p, known, used) for p in sorted(rules_dir().glob("SL[0-9][0-9][0-9]-*.md")))
    if used != known:  # a rule changed, or none was kept: keep what this rulebook's texts parse to
        bytecache.write(where, used)
    return book
