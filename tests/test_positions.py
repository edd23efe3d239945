"""static/positions.py: positions of reported nodes.  With the top-level statements' lines
(`Parsed.tops`), the code is generated from the first statement holding a reported node; the
positions must be those of generating the whole module, on real files and on the shapes where the
shortcut does not apply (then the whole module is generated)."""
import random
from pathlib import Path

import libcst as cst
import pytest

from speclint import importcache
from speclint.static import parse, positions
from speclint.static.walk import Walker, walk

importcache.analyser()
ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted(ROOT.glob("fixtures/**/*.py")) + sorted(ROOT.glob("bench/data/*.py")) + \
    sorted((ROOT / "speclint" / "static").glob("*.py"))[:12]


class _All(Walker):
    def __init__(self):
        self.nodes = []

    def on_visit(self, node) -> bool:
        self.nodes.append(node)
        return True


def _nodes(stmt):
    found = _All()
    walk(stmt, found)
    return found.nodes


def both(parsed, targets):
    whole = positions.compute(parsed.module, targets)
    shortcut = positions.compute(parsed.module, targets, parsed.tops)
    return whole, shortcut


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_same_positions_from_the_statement_holding_the_first_node(path):
    parsed = parse.parse_whole(path.read_bytes())
    module = parsed.module
    assert len(parsed.tops) == len(module.body)
    rng = random.Random(str(path))
    took = 0
    for k in sorted(rng.sample(range(len(module.body)), min(8, len(module.body)))):
        nodes = _nodes(module.body[k])
        for targets in (nodes[:1], rng.sample(nodes, min(5, len(nodes))),
                        nodes[-1:] + _nodes(module.body[-1])[-1:]):
            whole, shortcut = both(parsed, targets)
            assert shortcut == whole, (k, targets[:1])
            took += positions._first_holding(module, set(targets), parsed.tops) is not None
    assert took > 0 or len(module.body) < 3


def test_a_lazy_module_gives_the_same_positions():
    """Bodies not read are generated from their text, read ones from their nodes; the headers of
    every function, from the statement holding the first one."""
    data = (ROOT / "bench" / "data" / "tpu_pretraining.py").read_bytes()
    lazy = parse._parse_file(data, None, lazy=True)
    whole = parse.parse_whole(data)
    assert positions._first_holding(lazy.module, {lazy.module.body[-1]}, lazy.tops) == len(lazy.module.body) - 1
    names = [s.name for s in lazy.module.body if isinstance(s, cst.FunctionDef)]
    names_whole = [s.name for s in whole.module.body if isinstance(s, cst.FunctionDef)]
    got, _ = positions.compute(lazy.module, names[5:], lazy.tops)
    want, _ = positions.compute(whole.module, names_whole[5:])
    assert [got[n] for n in names[5:]] == [want[n] for n in names_whole[5:]]


@pytest.mark.parametrize("source, why", [
    ("import os\na = 1; b = 2\n\nx = f(a)\n", "two statements on a line: one to libcst"),
    ("def f():\n    return 1\n    # an indented comment after the block\n\nx = f()\n", "a comment libcst gives the block"),
    ("x = f()\ny = 2\n", "the first statement"),
])
def test_where_the_shortcut_does_not_apply_the_whole_module_is_generated(source, why):
    parsed = parse.parse_whole(source.encode())
    target = parsed.module.body[-1] if "x = f()\ny" not in source else parsed.module.body[0]
    nodes = _nodes(target)
    assert positions._first_holding(parsed.module, set(nodes[:1]), parsed.tops) is None, why
    whole, shortcut = both(parsed, nodes)
    assert shortcut == whole


def test_blank_lines_and_comments_before_a_statement_are_its_own():
    source = "import os\n\n\n# a comment\n\n@decorated\n# between\ndef f(x):\n    return x\n\n\nclass C:\n    y = f(1)\n"
    parsed = parse.parse_whole(source.encode())
    call = _nodes(parsed.module.body[-1])[-3:]
    assert positions._first_holding(parsed.module, set(call), parsed.tops) == 2
    whole, shortcut = both(parsed, call)
    assert shortcut == whole and whole[0]


def test_the_module_and_its_header_and_footer_lines_keep_their_ranges():
    source = "# a header comment\n\nimport os\n\nx = os.getcwd()\n# a footer comment\n"
    parsed = parse.parse_whole(source.encode())
    module = parsed.module
    call = _nodes(module.body[-1])[-1]
    for extra in (module, module.header[0], module.footer[0]):
        assert positions._first_holding(module, {call, extra}, parsed.tops) is None
        whole, shortcut = both(parsed, [call, extra])
        assert shortcut == whole and whole[0][extra]
