"""A reviewer's calculator: redoes every calculation sessionmd writes, from the text alone.

It evaluates each calculation from the numbers shown and checks the figure after ``=``
(exact) or ``≈`` (rounded half up: tokens to 100, percentages to 0.1); then it checks
the headline figures against the calculations and the totals against the phase blocks.
Shared by the est tests (not a test module itself).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import yaml

from sessionmd.estimate.compute import PlanEstimate
from sessionmd.estimate.render import render_frontmatter, render_phase_block, render_total_block

NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)(h|\s?min|\s?s|/h|%)?")


def strip_notes(text: str) -> str:
    """Drop parenthesised words such as '(tech_stack familiar)'; keep '(25,000 + ...)'."""
    out, i = [], 0
    while i < len(text):
        if (text[i] == "(" and i + 1 < len(text) and text[i + 1].isalpha()) or (
            text[i] == "(" and text[i + 1 : i + 2] == "_"
        ):
            depth = 0
            while True:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
                if depth == 0:
                    break
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def number(text: str) -> Fraction:
    m = NUMBER.fullmatch(text.strip())
    assert m, text
    value = Fraction(m.group(1).replace(",", ""))
    unit = (m.group(2) or "").strip()
    return {"h": value, "min": value / 60, "s": value / 3600, "%": value / 100}.get(unit, value)


def evaluate(expr: str) -> Fraction:
    """+, -, ×, ÷ and parentheses over the numbers shown, with their units."""
    tokens = re.findall(r"\d[\d,]*(?:\.\d+)?(?:h|\s?min\b|\s?s\b|/h|%)?|[-+×÷()]", expr)
    rest = re.sub(r"\d[\d,]*(?:\.\d+)?(?:h|\s?min\b|\s?s\b|/h|%)?|[-+×÷()]|\s", "", expr)
    assert rest == "", f"unreadable calculation: {expr!r} ({rest!r})"
    pos = 0

    def atom() -> Fraction:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            value = expression()
            assert tokens[pos] == ")"
            pos += 1
            return value
        return number(tok)

    def term() -> Fraction:
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos] in "×÷":
            op = tokens[pos]
            pos += 1
            value = value * atom() if op == "×" else value / atom()
        return value

    def expression() -> Fraction:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos] in "+-":
            op = tokens[pos]
            pos += 1
            value = value + term() if op == "+" else value - term()
        return value

    result = expression()
    assert pos == len(tokens), expr
    return result


def check_calculation(text: str, unit: int = 100) -> int | Fraction:
    """Evaluate 'calculation = figure' or 'calculation ≈ figure'; return the figure."""
    m = re.fullmatch(r"(.*) ([=≈]) ([+-]?\d[\d,]*(?:\.\d+)?%?)(.*)", text)
    assert m, text
    lhs, rel, shown_text, tail = m.groups()
    assert tail == "" or tail.startswith(","), text
    value = evaluate(strip_notes(lhs))
    percent = shown_text.endswith("%")
    shown = Fraction(shown_text.rstrip("%").replace(",", "").lstrip("+"))
    if rel == "=":
        assert value == shown, f"{text}: {value} != {shown}"
    else:
        step = Fraction(1, 10) if percent else Fraction(unit)
        assert value != shown, f"{text}: exact, so it should say '='"
        assert math.floor(value / step + Fraction(1, 2)) * step == shown, f"{text}: {float(value)}"
    return shown


def figures(head: str) -> list[int]:
    return [int(x.replace(",", "")) for x in re.findall(r"\d[\d,]*\d|\d", head)]


def recompute_phase(block: str, unit: int = 100) -> dict[str, int]:
    lines = block.splitlines()
    head = re.fullmatch(
        r"\*\*Estimate\*\*: ([\d,]+) tokens \(([\d,]+) - ([\d,]+), (low|medium|high) confidence\)",
        lines[0],
    )
    assert head, lines[0]
    mid, low, high = (int(g.replace(",", "")) for g in head.groups()[:3])
    conf = head.group(4)
    got: dict[str, int] = {}
    spread = None
    factors = Fraction(1)
    for line in lines[2:]:
        if line.startswith("- Confidence: "):
            m = re.search(r"spread (\d+(?:\.\d+)?)%$", line)
            assert m and line.startswith(f"- Confidence: {conf} ")
            spread = Fraction(m.group(1)) / 100
        for which in ("Mid", "Low", "High"):
            if line.startswith(f"- {which}: "):
                got[which] = int(check_calculation(line[len(which) + 4 :], unit))
                if which == "Mid":
                    # "× 0.9 (tech_stack familiar)": every factor of the mid line
                    for value in re.findall(r"× ([\d.]+) \((?!the factors)[^)]*\)", line):
                        factors *= Fraction(value)
                else:
                    shown = re.findall(r"× ([\d.]+) \(", line)
                    # the first factor shown is the mid line's product (if any factor)
                    if factors != 1 or len(shown) > 1:
                        assert Fraction(shown[0]) == factors, line
                if which != "Mid":
                    factor = re.search(r"× ([\d.]+) \(\w+ confidence, ([+-])([\d.]+)%\)", line)
                    assert factor and spread is not None
                    sign = 1 if factor.group(2) == "+" else -1
                    assert Fraction(factor.group(3)) / 100 == spread
                    assert Fraction(factor.group(1)) == 1 + sign * spread
        if line.startswith("- Author's estimate: ") and "middle: " in line:
            check_calculation(line.split("middle: ", 1)[1])
            a = figures(line.split(" tokens;")[0])
            author_mid = Fraction(a[0] + a[-1], 2)
            m = re.search(r"\(([\d,]+) - ([\d,.]+)\) ÷ ([\d,.]+) ×", line)
            assert m, line
            assert int(m.group(1).replace(",", "")) == mid
            assert Fraction(m.group(2).replace(",", "")) == author_mid
            assert Fraction(m.group(3).replace(",", "")) == author_mid
    assert got == {"Mid": mid, "Low": low, "High": high}, (got, lines[0])
    return {"mid": mid, "low": low, "high": high}


def rounding_unit(total_block: str) -> int:
    """The token rounding the total block's footnote states ("tokens to the nearest 100")."""
    m = re.search(r"tokens to the nearest ([\d,]+)", total_block)
    return int(m.group(1).replace(",", "")) if m else 100


def recompute_total(
    block: str, phases: list[dict[str, int]], quota: int | None, unit: int = 100
) -> None:
    lines = block.splitlines()
    if not phases:
        assert lines == ["**Session estimate**: no phases found, so nothing to estimate"]
        return
    mid, low, high, safe = figures(lines[0])
    found: dict[str, Fraction | int] = {}
    for line in lines[2:]:
        label, _, rest = line[2:].partition(": ")
        if label == "Safe upper limit":
            a, b, result = figures(rest)
            assert max(a, b) == result
            found["safe"] = result
        elif label.startswith("Quota") and "tokens (" in rest:
            calc = rest[rest.index("): ") + 3 :]
            found["percent"] = check_calculation(calc.split(", **")[0])
            fits = calc.endswith("**fits**")
            assert fits == (found["safe"] <= (quota or 0))
            assert figures(rest)[0] == quota
        elif label.startswith("Quota"):
            assert quota is None and "add `quota:`" in rest
        elif line.startswith("- "):
            found[label.split(" ")[0]] = check_calculation(rest, unit)
    assert found["Mid"] == mid == sum(p["mid"] for p in phases)
    assert found["Conservative"] == low == sum(p["low"] for p in phases)
    assert found["Aggressive"] == high == sum(p["high"] for p in phases)
    assert found["safe"] == safe
    # the sums name every phase's figure, in order
    assert lines[2] == "- Mid: " + " + ".join(f"{p['mid']:,}" for p in phases) + f" = {mid:,}"


def recompute_everything(est: PlanEstimate) -> None:
    total = render_total_block(est)
    unit = rounding_unit(total)
    phases = [recompute_phase(render_phase_block(pe), unit) for pe in est.phases]
    recompute_total(total, phases, est.total.quota, unit)
    data = yaml.safe_load(render_frontmatter(est))["estimate"]
    assert data["mid"] == est.total.mid and data["safe_limit"] == est.total.safe_limit
    assert [(v["low"], v["mid"], v["high"]) for v in data["phases"].values()] == [
        (p["low"], p["mid"], p["high"]) for p in phases
    ]
    assert list(data["phases"]) == [p.number for p in est.phases]
