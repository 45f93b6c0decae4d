"""The text sessionmd writes into a plan: phase blocks, the total block, the frontmatter.

Every figure is shown with the calculation that produced it, in numbers a reviewer can
redo by hand in a pull request: ``=`` joins a calculation to its exact result and ``≈``
to its result rounded half up (tokens to the model's ``round_to``, percentages to 0.1).
The strings carry no markers (``sessionmd.plan`` owns those) and use ``\\n`` line ends.
Plain Python rather than templates: 2,000-phase plans render in milliseconds this way.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

from sessionmd.estimate.arith import (
    decimal_text,
    duration_text,
    exact,
    formula_ratio,
    half_seconds,
    round_half_up,
    tokens_text,
)
from sessionmd.estimate.compute import PhaseEstimate, PlanEstimate

NO_QUOTA = (
    "no quota set: add `quota:` to the frontmatter or sessionmd.yaml "
    "(a token count, or pro, max5, max20)"
)


def _num(value: float | int | Fraction) -> str:
    return decimal_text(value if isinstance(value, Fraction) else exact(value))


def _percent(value: float) -> str:
    return f"{decimal_text(exact(value), grouping=False)}%"


def _note(text: str) -> str:
    """Words shown in parentheses: brackets inside, so the parentheses always pair up."""
    return " ".join(text.replace("(", "[").replace(")", "]").split())


def _result(value: Fraction, shown: int) -> str:
    """'= 70,900' when exact, '≈ 70,900' when rounded."""
    return f"{'=' if value == shown else '≈'} {tokens_text(shown)}"


def _side(pe: PhaseEstimate, which: str) -> tuple[str, bool]:
    """The text of one of a phase's three calculations, and whether its result is exact."""
    base, rate = pe.base_tokens, pe.tokens_per_hour
    if pe.hours is None:
        inner = f"{tokens_text(base)} (base only: no duration)"
        half_secs = 0
    else:
        low, high = (half_seconds(h) for h in pe.hours)
        half_secs = {"low": low, "mid": (low + high) // 2, "high": high}[which]
        hours = Fraction(half_secs, 7200)
        inner = f"({tokens_text(base)} + {duration_text(hours)} × {tokens_text(rate)}/h)"
    parts = [inner]
    product = Fraction(1)
    for factor in pe.factors:
        product *= exact(factor.value)
        if which == "mid":
            parts.append(f"× {_num(factor.value)} ({_note(factor.note)})")
    if which != "mid" and pe.factors:
        # the low and high lines repeat the mid line's factors as their product
        label = "the factors above" if len(pe.factors) > 1 else _note(pe.factors[0].note)
        parts.append(f"× {_num(product)} ({label})")
    spread = Fraction(0)
    if which != "mid":
        sign = 1 if which == "high" else -1
        spread = sign * exact(pe.spread)
        pct = decimal_text(abs(spread) * 100, grouping=False)
        parts.append(
            f"× {_num(1 + spread)} ({pe.confidence} confidence, {'+' if sign > 0 else '-'}{pct}%)"
        )
    libs = 0
    for lib in pe.libraries:
        if lib.counted_in is not None:
            continue
        if which == "mid":
            label = _note(lib.name if lib.name[:1].isalpha() else f"library {lib.name}")
            label = label if lib.known else f"{label}, default library cost"
            parts.append(f"+ {tokens_text(lib.tokens)} ({label})")
        else:
            parts.append(f"+ {tokens_text(lib.tokens)}")
        libs += lib.tokens
    num, den = formula_ratio(base, rate, half_secs, product, spread, libs)
    shown = getattr(pe.tokens, which)
    return " ".join(parts), num == shown * den


def render_phase_block(pe: PhaseEstimate) -> str:
    """The block under a phase heading: the estimate, and how it was reached."""
    t = pe.tokens
    lines = [
        f"**Estimate**: {tokens_text(t.mid)} tokens "
        f"({tokens_text(t.low)} - {tokens_text(t.high)}, {pe.confidence} confidence)",
        "",
    ]
    if pe.type_defaulted:
        lines.append(f"- Type: {pe.type} (the default: this phase gives no Type tag)")
    else:
        lines.append(f"- Type: {pe.type}")
    if pe.confidence_source == "tag":
        why = "from the phase's Confidence tag"
    elif pe.confidence_source == "type":
        why = f"usual for {pe.type}"
    else:
        why = "no duration given, so estimated from the type's base alone"
    lines.append(f"- Confidence: {pe.confidence} ({why}), spread {_percent(pe.spread * 100)}")
    for which, shown in (("mid", t.mid), ("low", t.low), ("high", t.high)):
        text, is_exact = _side(pe, which)
        lines.append(
            f"- {which.capitalize()}: {text} {'=' if is_exact else '≈'} {tokens_text(shown)}"
        )
    for lib in pe.libraries:
        if lib.counted_in is not None:
            lines.append(
                f"- {lib.name}: integration cost already counted in Phase {lib.counted_in}"
            )
    if pe.author_tokens is not None:
        a_low, a_high = pe.author_tokens
        figure = tokens_text(a_low) if a_low == a_high else f"{a_low:,} - {a_high:,}"
        author_mid = Fraction(a_low + a_high, 2)
        if author_mid > 0:
            change = (t.mid - author_mid) / author_mid * 100
            rounded = Fraction(round_half_up(change * 10), 10)
            sign = "+" if rounded >= 0 else ""
            rel = "=" if rounded == change else "≈"
            lines.append(
                f"- Author's estimate: {figure} tokens; sessionmd's mid against its middle: "
                f"({tokens_text(t.mid)} - {_num(author_mid)}) ÷ {_num(author_mid)} × 100 "
                f"{rel} {sign}{decimal_text(rounded, grouping=False)}%"
            )
        else:
            lines.append(f"- Author's estimate: {figure} tokens")
    return "\n".join(lines) + "\n"


def _sum(values: list[int]) -> str:
    return " + ".join(tokens_text(v) for v in values)


def render_total_block(est: PlanEstimate) -> str:
    """The plan's totals and quota check, each with its sum or rule spelled out."""
    total = est.total
    if not est.phases:
        return "**Session estimate**: no phases found, so nothing to estimate\n"
    phases = est.phases
    buffer = exact(total.buffer)
    lines = [
        f"**Session estimate**: {tokens_text(total.mid)} tokens "
        f"({tokens_text(total.low)} - {tokens_text(total.high)}), "
        f"safe upper limit {tokens_text(total.safe_limit)}",
        "",
        f"- Mid: {_sum([p.tokens.mid for p in phases])} = {tokens_text(total.mid)}",
        f"- Conservative (every phase low): {_sum([p.tokens.low for p in phases])}"
        f" = {tokens_text(total.low)}",
        f"- Aggressive (every phase high): {_sum([p.tokens.high for p in phases])}"
        f" = {tokens_text(total.high)}",
        f"- Buffered (+{decimal_text(buffer * 100, grouping=False)}%): "
        f"{tokens_text(total.mid)} × {_num(1 + buffer)} "
        f"{_result(total.mid * (1 + buffer), total.buffered)}",
        f"- Safe upper limit: the larger of {tokens_text(total.high)} (aggressive) and "
        f"{tokens_text(total.buffered)} (buffered) = {tokens_text(total.safe_limit)}",
    ]
    if total.quota is None or total.percent_of_quota is None:
        lines.append(f"- Quota: {NO_QUOTA}")
    else:
        share = Fraction(total.safe_limit * 100, total.quota)
        shown = exact(total.percent_of_quota)
        verdict = "fits" if total.fits else "does NOT fit"
        lines.append(
            f"- Quota: {tokens_text(total.quota)} tokens ({total.quota_source}): "
            f"{tokens_text(total.safe_limit)} ÷ {tokens_text(total.quota)} × 100 "
            f"{'=' if share == shown else '≈'} {decimal_text(shown, grouping=False)}%, "
            f"**{verdict}**"
        )
    model_name = " ".join(est.model.replace("`", "'").split())
    lines += [
        "",
        f"_Model `{model_name}`. Each phase: (base + hours × rate) × factors × (1 ± spread)"
        " + new libraries; ≈ marks a figure rounded half up (tokens to the nearest "
        f"{tokens_text(phases[0].round_to)}, percentages to 0.1)._",
    ]
    return "\n".join(lines) + "\n"


# Characters YAML readers refuse or take as line breaks, though JSON leaves them raw.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar: JSON's string syntax (a subset of YAML's), with the
    characters YAML readers refuse or read as line breaks escaped as well."""
    return _YAML_UNSAFE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False)
    )


def _yaml_hours(hours: tuple[float, float] | None) -> str:
    if hours is None:
        return "null"
    return "[" + ", ".join(json.dumps(round(h, 4)) for h in hours) + "]"


def _yaml_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return yaml_str(value)
    return json.dumps(value)


def render_frontmatter(est: PlanEstimate) -> str:
    """The ``estimate:`` section of the frontmatter, as YAML text in a fixed layout.

    Written by hand rather than by a YAML dumper so that its bytes never change with the
    YAML library's version; ``tests`` load it back with PyYAML and python-frontmatter.
    """
    total = est.total
    lines = [
        "estimate:",
        f"  model: {yaml_str(est.model)}",
        f"  mid: {total.mid}",
        f"  low: {total.low}",
        f"  high: {total.high}",
        f"  buffered: {total.buffered}",
        f"  safe_limit: {total.safe_limit}",
        f"  quota: {_yaml_value(total.quota)}",
        f"  quota_source: {_yaml_value(total.quota_source)}",
        f"  fits: {_yaml_value(total.fits)}",
        f"  percent_of_quota: {_yaml_value(total.percent_of_quota)}",
    ]
    if not est.phases:
        lines.append("  phases: {}")
    else:
        lines.append("  phases:")
        for p in est.phases:
            lines.append(
                f"    {yaml_str(p.number)}: {{title: {yaml_str(p.title)}, "
                f"type: {yaml_str(p.type)}, hours: {_yaml_hours(p.hours)}, "
                f"low: {p.tokens.low}, mid: {p.tokens.mid}, high: {p.tokens.high}}}"
            )
    return "\n".join(lines) + "\n"
