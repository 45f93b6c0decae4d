"""``NamedTuple`` and ``TYPE_CHECKING`` without importing ``typing`` at run time.

Why: ``sessionmd statusline`` runs every few hundred milliseconds and must finish in well
under 50 ms; importing ``typing`` (and building its NamedTuples) costs it about 5 ms. For
the type checker the names below are ``typing``'s own; at run time ``NamedTuple`` builds the
same ``collections.namedtuple`` class ``typing.NamedTuple`` does (fields from the class
annotations, defaults from their values, the methods and properties of the class body).
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:

    class _NamedTupleMeta(type):
        def __new__(mcls, name, bases, namespace):
            if namespace.get("_sessionmd_root"):
                return super().__new__(mcls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[f] for f in fields if f in namespace]
            if any(f not in namespace for f in fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            cls = collections.namedtuple(
                name, fields, defaults=defaults, module=namespace.get("__module__")
            )
            skip = {"__annotations__", "__module__", "__qualname__", *fields}
            for key, value in namespace.items():
                if key not in skip:
                    setattr(cls, key, value)
            cls.__qualname__ = namespace.get("__qualname__", name)
            return cls

    class NamedTuple(metaclass=_NamedTupleMeta):
        _sessionmd_root = True


__all__ = ["TYPE_CHECKING", "NamedTuple"]
