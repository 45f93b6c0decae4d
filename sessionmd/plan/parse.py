"""Plan markdown -> :class:`~sessionmd.plan.models.Plan`: which phases a plan holds.

The markdown is read with markdown-it-py's *block* rules only (headings, paragraphs,
fences, indented code, HTML blocks, rules) and no inline pass: a phase is found from
token line maps, so a ``### Phase 9`` inside a code fence or an HTML comment is never a
phase (regexes only read single heading and paragraph lines). Lists, block quotes and tables
are not tokenised (the list rule alone costs half the parse time); their lines stay in
paragraphs, where tag lines are still read line by line.

Rules (docs/readme/parse.md has the user's version):

* A phase is an ATX heading ``Phase N: Title`` at any level (N like ``1``, ``3.5``,
  ``6B``; ``:``, ``-``, ``–``, ``—`` or ``.`` after N; emoji or ✅ before it), or a
  paragraph that opens with a bold ``**Phase N: Title**``. ``Phase-by-Phase Estimate``,
  ``Phases 3-6`` and table rows are not phases.
* A parenthesis or bracket in the phase line holding a duration or a token figure
  (``(30 min, 8-12k tokens)``), or a last segment after a dash, bar or colon that is one
  (``Setup — 30 min``), is read; any other (``(Future)``, ``(Week 1-2)``) is title.
* Tag lines are read from the phase line to the next heading of the same or a higher
  level, or the next phase line, whichever comes first.
* Not taken (reported in ``skipped_headings`` and as ``skipped-heading`` diagnostics):
  phases in an excluded section (frontmatter ``exclude:`` or the ``exclude`` argument:
  exact heading text or an fnmatch glob, case-insensitive; a section is its heading and
  everything up to the next heading of the same or a higher level); phases under a
  section heading about other sessions' work (future, previous, roadmap, backlog, out of
  scope, post-session, next session); phases marked ``(Future)``/``(Later)``; and, when
  one number names two different phases (titles that share too few words), the one
  outside the section holding the most phases; and a phase marked done (✅, COMPLETED,
  DONE) outside that section, with no unmarked mention of its own: a recap of a
  previous session. Inside the section holding the phases a done mark skips nothing:
  authors tick phases off during the session, and that must not change its estimate.
* A sub-phase inside its phase's section (``#### Phase 2.1`` or ``2B`` under ``### Phase
  2``) is part of it when the outer phase has a duration (or none of them has one); an outer
  phase with no duration over sub-phases with one is only their heading, and they are
  the phases. Either way no work is counted twice.
* A number seen more than once with a similar title (summary + breakdown) is one phase;
  its values are merged, and the primary occurrence (where the phase's block goes) is
  the one in the section that says the most about its phases, so all blocks land in one
  section; the others are listed in ``also_at``.
* ``total_after_line`` is the last line of the last block (rules and blank lines not
  counted) of the section of the phase whose primary occurrence comes last in the file.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from markdown_it import MarkdownIt

from sessionmd.errors import PlanError
from sessionmd.plan.frontmatter import find_frontmatter, read_frontmatter
from sessionmd.plan.models import Diagnostic, Phase, Plan
from sessionmd.plan.phaseline import PhaseLine, match_bold_phase, match_heading_phase
from sessionmd.plan.tags import TagError, TagValues, match_tag, read_tag

__all__ = ["has_phases", "parse_plan"]

_HINT = re.compile(r"phase\s+\d", re.IGNORECASE)
# Section headings whose phases belong to another session.
_OTHER_WORK = re.compile(
    r"\bfuture\b(?![- ]?proof)|\b(?:previous|prior|past)\s+(?:sessions?|phases?|work)\b"
    r"|\bpost[- ]session\b|\bnext\s+sessions?\b|\broadmap\b|\bbacklog\b|\bout\s+of\s+scope\b"
    r"|\bdeferred\b|\blater\s+sessions?\b",
    re.IGNORECASE,
)
_LIST_START = re.compile(r"^\s{0,3}(?:[-*+]\s|\d{1,9}[.)](?:\s|$)|[>|])")
_STOP_WORDS = frozenset({"and", "the", "of", "a", "an", "to", "for", "with", "in", "on"})

_parsers: dict[bool, MarkdownIt] = {}
_UNDERLINE = re.compile(r"\n {0,3}(?:=+|-+)[ \t]*(?=\n|$)")
_BLOCK_RULES = ["heading", "paragraph", "fence", "code", "hr", "html_block"]


def _maybe_setext(body: str) -> bool:
    """A line of only ``=`` or ``-`` right below a line of text: a setext heading may be here."""
    for m in _UNDERLINE.finditer(body):
        start = body.rfind("\n", 0, m.start()) + 1
        if body[start : m.start()].strip():
            return True
    return False


def _markdown(setext: bool) -> MarkdownIt:
    """Block rules only, no inline pass: about 5 MB/s here against 1.5 MB/s for a full parse.

    The setext rule re-scans every paragraph, so it is only enabled for a text that has an
    underline right below a line of text (plans seldom do: they put a blank line before
    ``---``).
    """
    md = _parsers.get(setext)
    if md is None:
        md = MarkdownIt("zero", {"html": True}).enable(
            [*_BLOCK_RULES, "lheading"] if setext else _BLOCK_RULES
        )
        md.core.ruler.disable(["inline", "text_join"])
        _parsers[setext] = md
    return md


def has_phases(text: str) -> bool:
    """Cheap pre-check: can ``text`` hold a phase at all (``Phase <digit>`` anywhere)?"""
    return _HINT.search(text) is not None


@dataclass
class _Heading:
    level: int
    line: int  # 1-based
    last: int  # 1-based, inclusive
    text: str
    parent: int  # index into the heading list, -1 for none
    end: int = 0  # 1-based line where the section stops (next heading of level <= this)
    phase: PhaseLine | None = None
    excluded_by: str | None = None
    other_work: str | None = None  # heading text of the section about other sessions


@dataclass
class _Occurrence:
    kind: Literal["heading", "paragraph"]
    line: int
    last: int  # where a block would go: the heading's or the phase paragraph's last line
    scope_end: int  # tag lines are read in [line, scope_end)
    parent: int  # heading index of the containing section, -1 for none
    text: str
    phase: PhaseLine
    tags: TagValues = field(default_factory=TagValues)
    errors: list[tuple[int, str]] = field(default_factory=list)
    skip: str | None = None
    tag_hours_line: int = 0
    heading: int = -1  # index of its own heading (heading occurrences)

    @property
    def hours(self) -> tuple[float, float] | None:
        return self.phase.hours or self.tags.hours

    @property
    def author_tokens(self) -> tuple[int, int] | None:
        return self.phase.author_tokens or self.tags.author_tokens

    def info(self) -> int:
        t = self.tags
        return sum(
            (
                self.hours is not None,
                self.author_tokens is not None,
                t.type is not None,
                t.complexity is not None,
                bool(t.libraries),
                t.confidence is not None,
            )
        )


def _norm(text: str) -> str:
    return " ".join(text.replace("**", "").replace("`", "").lstrip("#").split()).casefold()


def _excluded_by(text: str, patterns: Sequence[str]) -> str | None:
    norm = _norm(text)
    for pattern in patterns:
        p = _norm(pattern)
        if p and (norm == p or fnmatchcase(norm, p)):
            return pattern
    return None


def _words(title: str) -> list[str]:
    """A title's words for comparing, without parentheses ("(Week 3-4)") and numbers."""
    title = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", title.casefold())
    words = (w for w in re.findall(r"\w+", title) if w not in _STOP_WORDS and not w.isdigit())
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


def _same_word(a: str, b: str) -> bool:
    """``doc`` ~ ``documentation``, ``test`` ~ ``testing``: one a prefix of the other."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short == long or (len(short) >= 3 and long.startswith(short))


def _similar(a: str, b: str) -> bool:
    """Titles of one phase written twice: one's words within the other's, or most shared."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return True
    small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    shared = sum(1 for w in small if any(_same_word(w, x) for x in large))
    return shared == len(small) or shared / len(small) > 0.5


@dataclass
class _Doc:
    headings: list[_Heading]
    paragraphs: list[tuple[int, int, str]]  # (1-based first line, last line, content)
    blocks: list[tuple[int, int]]  # (first, last) of every block but rules, in order
    total_lines: int


def _scan(body: str, offset: int, total_lines: int) -> _Doc:
    """One pass over the block tokens: headings (with section ends), paragraphs, blocks."""
    tokens = _markdown(_maybe_setext(body)).parse(body)
    headings: list[_Heading] = []
    paragraphs: list[tuple[int, int, str]] = []
    blocks: list[tuple[int, int]] = []
    stack: list[int] = []
    n = len(tokens)
    i = 0
    while i < n:
        tok = tokens[i]
        kind = tok.type
        span = tok.map
        if span is None:
            i += 1
            continue
        first, last = offset + span[0] + 1, offset + span[1]
        if kind == "heading_open":
            content = tokens[i + 1].content
            if tok.markup in ("=", "-") and _LIST_START.match(content):
                # "- item\n---" is a list and a rule, not a setext heading (no list rule here)
                paragraphs.append((first, last - 1, content))
                blocks.append((first, last - 1))
            else:
                level = int(tok.tag[1])
                while stack and headings[stack[-1]].level >= level:
                    headings[stack.pop()].end = first
                parent = stack[-1] if stack else -1
                stack.append(len(headings))
                headings.append(_Heading(level, first, last, content.strip(), parent))
                blocks.append((first, last))
            i += 3
            continue
        if kind == "paragraph_open":
            paragraphs.append((first, last, tokens[i + 1].content))
            blocks.append((first, last))
            i += 3
            continue
        if kind != "hr":
            blocks.append((first, last))
        i += 1
    for index in stack:
        headings[index].end = total_lines + 1
    return _Doc(headings, paragraphs, blocks, total_lines)


def _classify_headings(doc: _Doc, exclude: Sequence[str]) -> None:
    for h in doc.headings:
        parent = doc.headings[h.parent] if h.parent >= 0 else None
        h.phase = match_heading_phase(h.text)
        h.excluded_by = _excluded_by(h.text, exclude) if exclude else None
        if h.excluded_by is None and parent is not None:
            h.excluded_by = parent.excluded_by
        h.other_work = parent.other_work if parent is not None else None
        # the document title (level 1) and phase headings never mark a section as other work
        if h.other_work is None and h.phase is None and h.level > 1 and _OTHER_WORK.search(h.text):
            h.other_work = h.text


def _occurrences(doc: _Doc, exclude: Sequence[str]) -> list[_Occurrence]:
    heading_lines = [h.line for h in doc.headings]
    found: list[_Occurrence] = []
    for index, h in enumerate(doc.headings):
        if h.phase is not None:
            occ = _Occurrence("heading", h.line, h.last, h.end, h.parent, h.text, h.phase)
            occ.heading = index
            if h.excluded_by is not None:
                occ.skip = f"in a section excluded by {h.excluded_by!r}"
            elif h.other_work is not None:
                occ.skip = f"under {h.other_work!r}, another session's work"
            found.append(occ)
    for first, _last, content in doc.paragraphs:
        if "**" not in content and "__" not in content:
            continue
        lines = content.split("\n")
        starts = [
            (k, phase)
            for k, text in enumerate(lines)
            if text.lstrip()[:2] in ("**", "__") and (phase := match_bold_phase(text)) is not None
        ]
        for n, (k, phase) in enumerate(starts):
            # the phase line, and the lines after it up to a list or the next phase line
            # (with the list rule a list would end the paragraph there)
            stop = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
            end = k
            while end + 1 < stop and not _LIST_START.match(lines[end + 1]):
                end += 1
            line = first + k
            enclosing = bisect_right(heading_lines, line) - 1
            if enclosing + 1 < len(doc.headings):
                scope_end = doc.headings[enclosing + 1].line
            else:
                scope_end = doc.total_lines + 1
            section = doc.headings[enclosing] if enclosing >= 0 else None
            occ = _Occurrence(
                "paragraph", line, first + end, scope_end, enclosing, lines[k].strip(), phase
            )
            own = _excluded_by(lines[k], exclude) if exclude else None
            if own is not None:
                occ.skip = f"excluded by {own!r}"
            elif section is not None and section.excluded_by is not None:
                occ.skip = f"in a section excluded by {section.excluded_by!r}"
            elif section is not None and section.other_work is not None:
                occ.skip = f"under {section.other_work!r}, another session's work"
            found.append(occ)
    found.sort(key=lambda o: o.line)
    return found


def _read_tags(doc: _Doc, occs: list[_Occurrence]) -> None:
    starts = [p[0] for p in doc.paragraphs]
    split: dict[int, list[str] | None] = {}  # paragraph -> its lines (None: no bold text)
    for index, occ in enumerate(occs):
        stop = occ.scope_end
        if index + 1 < len(occs):
            stop = min(stop, occs[index + 1].line)
        occ.scope_end = stop
        if occ.phase.error:
            occ.errors.append((occ.line, occ.phase.error))
        if occ.phase.future and occ.skip is None:
            occ.skip = "marked as future work"
        # paragraphs that overlap (occ.line, stop): the one holding a bold phase line, on
        for p in range(max(bisect_right(starts, occ.line) - 1, 0), bisect_left(starts, stop)):
            if p not in split:
                content = doc.paragraphs[p][2]
                bold = "**" in content or "__" in content
                split[p] = content.split("\n") if bold else None
            lines = split[p]
            if lines is None:
                continue
            first = starts[p]
            for k in range(max(occ.line + 1 - first, 0), min(stop - first, len(lines))):
                tag = match_tag(lines[k])
                if tag is None:
                    continue
                line = first + k
                had_hours = occ.tags.hours is not None
                try:
                    read_tag(tag[0], tag[1], occ.tags)
                except TagError as exc:
                    occ.errors.append((line, str(exc)))
                if not had_hours and occ.tags.hours is not None:
                    occ.tag_hours_line = line


def _sub_number(inner: str, outer: str) -> bool:
    """``2.1`` and ``2B`` number parts of Phase ``2``; ``3`` or ``21`` do not."""
    rest = inner[len(outer) :]
    return inner.startswith(outer) and (rest.startswith(".") or (len(rest) == 1 and rest.isalpha()))


def _nest(doc: _Doc, occs: list[_Occurrence]) -> None:
    """Sub-phases inside their phase's section (``#### Phase 2.1`` under ``### Phase 2``).

    Estimating both would count the work twice. A parent with its own duration (or with
    sub-phases that have none) is the phase, its sub-phases are part of it; a parent with
    no duration over sub-phases that have one is a heading for them, and they are the
    phases.
    """
    by_heading = {o.heading: o for o in occs if o.kind == "heading"}
    kids: dict[int, list[_Occurrence]] = {}
    for o in occs:
        if o.skip is not None:
            continue
        i = o.parent
        while i >= 0:
            outer = by_heading.get(i)
            if (
                outer is not None
                and outer.skip is None
                and _sub_number(o.phase.key, outer.phase.key)
            ):
                kids.setdefault(id(outer), []).append(o)
                break
            i = doc.headings[i].parent
    if not kids:
        return
    for outer in occs:  # outer phases first, so a skipped parent passes its reason on
        inner = kids.get(id(outer))
        if not inner:
            continue
        if outer.skip is not None:
            reason = outer.skip
        elif outer.hours is not None or all(k.hours is None for k in inner):
            reason = f"part of Phase {outer.phase.number} at line {outer.line}"
        else:
            numbers = ", ".join(k.phase.number for k in inner)
            outer.skip = f"a heading over Phases {numbers}, which are estimated instead"
            continue
        for k in inner:
            k.skip = reason


def _main_section(live: list[_Occurrence]) -> int | None:
    """The section holding the phases: most occurrences, then most headings, then first."""
    count: dict[int, list[int]] = {}
    for o in live:
        c = count.setdefault(o.parent, [0, 0, -o.line])
        c[0] += 1
        c[1] += o.kind == "heading"
    return max(count, key=lambda p: count[p]) if count else None


def _resolve(occs: list[_Occurrence], headings: list[_Heading]) -> list[list[_Occurrence]]:
    """Group the occurrences into phases; mark conflicting ones skipped. Primary first."""
    live = [o for o in occs if o.skip is None]
    by_key: dict[str, list[_Occurrence]] = {}
    for o in live:
        by_key.setdefault(o.phase.key, []).append(o)
    per_section: dict[int, int] = {}
    for o in live:
        per_section[o.parent] = per_section.get(o.parent, 0) + 1
    main = _main_section(live)
    where = repr(headings[main].text) if main is not None and main >= 0 else "the top"

    groups: list[list[_Occurrence]] = []
    losers: list[tuple[list[_Occurrence], list[_Occurrence]]] = []
    for same in by_key.values():
        clusters: list[list[_Occurrence]] = []
        for o in same:
            for c in clusters:
                if _similar(c[0].phase.title, o.phase.title):
                    c.append(o)
                    break
            else:
                clusters.append([o])
        # a phase ticked done outside the section holding the phases is another
        # session's (a recap); ticked inside it, it is still this session's phase
        recaps = [c for c in clusters if all(o.phase.done and o.parent != main for o in c)]
        candidates = [c for c in clusters if all(c is not r for r in recaps)]
        if not candidates:
            for c in recaps:
                for o in c:
                    o.skip = f"marked done, outside {where} where the phases are"
            continue
        candidates.sort(
            key=lambda c: (
                max(per_section[o.parent] for o in c),
                len(c),
                not all(o.phase.done for o in c),
                any(o.kind == "heading" for o in c),
                -c[0].line,
            ),
            reverse=True,
        )
        losers += [(other, candidates[0]) for other in [*candidates[1:], *recaps]]
        groups.append(candidates[0])

    lost = {id(o) for other, _ in losers for o in other}
    score: dict[int, int] = {}
    for o in live:
        if o.skip is None and id(o) not in lost:
            score[o.parent] = score.get(o.parent, 0) + 1 + o.info()
    for g in groups:
        g.sort(
            key=lambda o: (score[o.parent], o.info(), o.kind == "heading", -o.line), reverse=True
        )
    for other, winner in losers:
        taken = winner[0]
        for o in other:
            if o.parent == taken.parent:
                o.skip = (
                    f"Phase {o.phase.number} {o.phase.title!r} has the number of Phase "
                    f"{taken.phase.number} {taken.phase.title!r} at line {taken.line}; "
                    "renumber one to estimate both"
                )
            else:
                o.skip = (
                    f"Phase {o.phase.number} {o.phase.title!r} is not the Phase "
                    f"{taken.phase.number} {taken.phase.title!r} taken at line {taken.line}"
                )
    groups.sort(key=lambda g: g[0].line)
    return groups


def _merge(group: list[_Occurrence], path: str, diags: list[Diagnostic]) -> Phase:
    primary = group[0]
    ordered = [primary, *sorted(group[1:], key=lambda o: o.line)]
    number = primary.phase.number
    hours: tuple[float, float] | None = None
    hours_source: Literal["heading", "tag"] | None = None
    hours_line = 0
    for o in ordered:
        for value, source, line in (
            (o.phase.hours, "heading", o.line),
            (o.tags.hours, "tag", o.tag_hours_line),
        ):
            if value is None:
                continue
            if hours is None:
                hours, hours_source, hours_line = value, source, line  # type: ignore[assignment]
            elif value != hours:
                diags.append(
                    Diagnostic(
                        path=path,
                        line=line,
                        code="conflicting-duration",
                        message=(
                            f"Phase {number}: this duration differs from the one at line "
                            f"{hours_line}, which is used"
                        ),
                    )
                )

    def first(attr: str) -> object:
        for o in ordered:
            value = getattr(o.tags, attr)
            if value:
                return value
        return None

    title = next((o.phase.title for o in ordered if o.phase.title), "")
    tokens = next((o.author_tokens for o in ordered if o.author_tokens is not None), None)
    complexity_from = next((o for o in ordered if o.tags.complexity is not None), None)
    phase = Phase(
        number=number,
        title=title,
        line=primary.line,
        block_after_line=primary.last,
        hours=hours,
        hours_source=hours_source,
        type=first("type"),  # type: ignore[arg-type]
        complexity=complexity_from.tags.complexity if complexity_from else None,
        complexity_note=complexity_from.tags.complexity_note if complexity_from else None,
        libraries=first("libraries") or [],  # type: ignore[arg-type]
        confidence=first("confidence"),  # type: ignore[arg-type]
        author_tokens=tokens,
        also_at=sorted(o.line for o in group[1:]),
    )
    for o in group[1:]:
        diags.append(
            Diagnostic(
                path=path,
                line=o.line,
                code="duplicate-phase",
                message=f"Phase {number} is repeated here; merged with line {primary.line}",
            )
        )
    if phase.hours is None:
        diags.append(
            Diagnostic(
                path=path,
                line=primary.line,
                code="no-duration",
                message=(
                    f"Phase {number} has no duration (in the heading's parentheses or a "
                    "**Duration** tag); estimated from its base alone, at low confidence"
                ),
            )
        )
    if phase.type is None:
        diags.append(
            Diagnostic(
                path=path,
                line=primary.line,
                code="default-type",
                message=f"Phase {number} has no **Type**; implementation assumed",
            )
        )
    return phase


def _total_after(doc: _Doc, last: _Occurrence) -> int:
    """Last line of the last block in the section of the last phase's primary occurrence."""
    stop = last.scope_end
    starts = [b[0] for b in doc.blocks]
    hi = bisect_left(starts, stop)
    lo = bisect_left(starts, last.line)
    return max(doc.blocks[hi - 1][1], last.last) if hi > lo else last.last


def parse_plan(text: str, path: str, *, exclude: Sequence[str] = ()) -> Plan:
    """Read a plan (sessionmd's generated blocks already removed) into a :class:`Plan`.

    Line numbers are 1-based lines of ``text``. Raises :class:`PlanError` naming ``path``
    and the line for invalid frontmatter, an unparsable duration or an invalid value of a
    tag sessionmd reads (in a phase that is taken).
    """
    block = find_frontmatter(text)
    frontmatter = read_frontmatter(block, path)
    fm_lines = block.line_count if block else 0
    body = text[block.end :] if block else text.removeprefix("\ufeff")
    patterns = [*frontmatter.exclude, *exclude]
    if not has_phases(body):
        return Plan(path=path, frontmatter=frontmatter, frontmatter_line_count=fm_lines, phases=[])
    if "\r" in body:
        # markdown-it counts a lone CR as a line break; the rest of sessionmd counts LF only
        body = body.replace("\r\n", "\n").replace("\r", " ")
    total_lines = fm_lines + body.count("\n") + 1
    doc = _scan(body, fm_lines, total_lines)
    _classify_headings(doc, patterns)
    occs = _occurrences(doc, patterns)
    _read_tags(doc, occs)
    _nest(doc, occs)
    groups = _resolve(occs, doc.headings)

    # bad values count only in phases that are taken; the first one in the file is reported
    errors = sorted(e for g in groups for o in g for e in o.errors)
    if errors:
        raise PlanError(errors[0][1], path, errors[0][0])
    diags: list[Diagnostic] = []
    phases = [_merge(g, path, diags) for g in groups]
    skipped = [o for o in occs if o.skip is not None]
    for o in skipped:
        diags.append(
            Diagnostic(
                path=path,
                line=o.line,
                code="skipped-heading",
                message=f"not taken as a phase ({o.skip}): {o.text}",
            )
        )
    diags.sort(key=lambda d: (d.line, d.code))
    total_after = 0
    if groups:
        last = max((g[0] for g in groups), key=lambda o: o.line)
        total_after = _total_after(doc, last)
    return Plan(
        path=path,
        frontmatter=frontmatter,
        frontmatter_line_count=fm_lines,
        phases=phases,
        total_after_line=total_after,
        skipped_headings=[(o.line, o.text) for o in skipped],
        diagnostics=diags,
    )
