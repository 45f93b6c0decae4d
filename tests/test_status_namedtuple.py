"""sessionmd._typing.NamedTuple builds what typing.NamedTuple builds, without importing typing."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from sessionmd._typing import NamedTuple


class Point(NamedTuple):
    """A doc."""

    x: int
    y: int = 2
    label: str = "p"

    @property
    def total(self) -> int:
        return self.x + self.y

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


class TypingPoint(typing.NamedTuple):
    x: int
    y: int = 2
    label: str = "p"


def test_same_fields_defaults_and_behaviour_as_typing() -> None:
    p = Point(1)
    assert p == (1, 2, "p") == TypingPoint(1)
    assert Point._fields == TypingPoint._fields
    assert Point._field_defaults == TypingPoint._field_defaults
    assert p.total == 3 and p.moved(4) == Point(5, 2, "p")
    assert isinstance(p, tuple) and Point.__doc__ == "A doc."
    assert Point.__module__ == __name__ and repr(p) == "Point(x=1, y=2, label='p')"
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_a_field_without_default_after_one_with_default_is_refused() -> None:
    with pytest.raises(TypeError):

        class Bad(NamedTuple):  # type: ignore[misc]
            a: int = 1
            b: int  # type: ignore[misc]


def test_the_status_line_path_does_not_import_typing() -> None:
    code = (
        "import sys; import sessionmd.cli.statusline, sessionmd.usage.status, "
        "sessionmd.usage.live, sessionmd.usage.status_render, sessionmd.usage.clock, "
        "sessionmd.usage.quick_config; "
        "print(sorted(m for m in ('typing', 'msgspec', 'dataclasses', 'pydantic', 'rich', "
        "'click', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
