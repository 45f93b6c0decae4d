"""A small, fixed price table, so reports can show an approximate cost offline.

ccusage prices every model from LiteLLM's live table; sessionmd does not fetch anything.
These are Anthropic's list prices in USD per million tokens (input, output, 5-minute cache
write, cache read) for the models Claude Code uses; on the generated corpora they give the same
cost as ccusage 20.0.24 ``--offline``. A model not in the table costs 0 (and is named in the
output's ``modelsUsed``, so nothing is hidden). Tokens, not cost, are what sessionmd measures.
"""

from __future__ import annotations

PRICES: dict[str, tuple[float, float, float, float]] = {
    "claude-opus-4-5": (5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-1": (15.0, 75.0, 18.75, 1.50),
    "claude-opus-4": (15.0, 75.0, 18.75, 1.50),
    "claude-sonnet-4-5": (3.0, 15.0, 3.75, 0.30),
    "claude-sonnet-4": (3.0, 15.0, 3.75, 0.30),
    "claude-3-7-sonnet": (3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 0.10),
    "claude-3-5-haiku": (0.8, 4.0, 1.0, 0.08),
}
_cache: dict[str, tuple[float, float, float, float] | None] = {}


def price(model: str) -> tuple[float, float, float, float] | None:
    """The price row for a model id such as ``claude-sonnet-4-5-20250929`` (longest prefix)."""
    if model in _cache:
        return _cache[model]
    found = None
    for name in sorted(PRICES, key=len, reverse=True):
        if model.startswith(name):
            found = PRICES[name]
            break
    _cache[model] = found
    return found


def cost(model: str, inp: int, out: int, cc: int, cr: int) -> float:
    p = price(model)
    if p is None:
        return 0.0
    return (inp * p[0] + out * p[1] + cc * p[2] + cr * p[3]) / 1e6
