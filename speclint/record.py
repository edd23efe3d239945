"""Record types for the modules every run imports, without `dataclasses`.

`dataclasses` imports `inspect` (with `dis`, `tokenize`, `ast`...): ~10 ms of the 60 ms a run
over a file without Estimator code may take (issue 12).  The types the plain path builds
(Diagnostic, Rule, Config, files.Entry, the engine's results and works) derive from `Record`
instead and write their own `__init__`; a record gives what the dataclasses gave them: equality
over its compared fields, a repr, `replace()`, and, `Frozen`, no assignment and a hash.
The analyser's own types stay dataclasses (libcst imports `dataclasses` anyway).
"""
from __future__ import annotations


class Record:
    """`FIELDS`: the fields, in order (the `__init__` parameters); `COMPARED`: those equality,
    hashing and ordering look at (None: all of them)."""

    FIELDS: tuple = ()
    COMPARED: tuple | None = None

    def compared(self) -> tuple:
        return tuple(getattr(self, f) for f in (self.COMPARED or self.FIELDS))

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self.compared() == other.compared()
        return NotImplemented

    __hash__ = None  # (mutable; `Frozen` hashes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self.FIELDS)})"

    def replace(self, **changes):
        """A copy with `changes` (field: value), made by the type's `__init__`."""
        unknown = set(changes) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values = {f: getattr(self, f) for f in self.FIELDS}
        values.update(changes)
        return type(self)(**values)


class Frozen(Record):
    """A record whose fields are set once, by `__init__` (through `_set`)."""

    def _set(self, **values) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r} of a {type(self).__name__}: it is frozen")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r} of a {type(self).__name__}: it is frozen")

    def __hash__(self) -> int:
        return hash(self.compared())
