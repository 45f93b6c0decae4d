"""sessionmd's markers and the lossless block model (the way cog keeps generated text).

A compiled plan is the user's text with sessionmd's blocks spliced in:

* after a phase (an HTML comment pair, invisible on GitHub)::

      <!-- sessionmd:estimate phase=1 -->
      ...generated lines...
      <!-- /sessionmd:estimate -->

* the plan's total: ``<!-- sessionmd:total -->`` ... ``<!-- /sessionmd:total -->``;
* in the YAML frontmatter, the ``estimate:`` section between YAML comments::

      # sessionmd:estimate:begin sha256=<digest>
      estimate:
        ...
      # sessionmd:estimate:end

  python-frontmatter cannot write comments back, so the user's YAML is never re-dumped:
  the section is text, inserted just before the closing ``---``. When the plan had no
  frontmatter, sessionmd creates one and says so (``created=frontmatter``) so that
  :func:`strip` can take it away again.

Every byte outside the markers belongs to the user: :func:`split` separates the two and
:func:`apply` puts them together, so ``strip(apply(s, ...)) == s`` for any text ``s``
without markers of its own. Markers count only at the start of a line and outside fenced
code, so a plan may show sessionmd's markers in a code example. Only ``\\n`` ends a line
here (as in git), so a CRLF file keeps its ``\\r``s and generated lines use the file's own
line ending. This module is a string scan (no markdown parse) because ``--check`` runs it
on hundreds of plans.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sessionmd.errors import PlanError
from sessionmd.plan.models import Plan

BOM = "\ufeff"
FRONTMATTER_SECTION = "estimate"
# Block kinds sessionmd writes: HTML comment pairs in the body, YAML comment pairs in the
# frontmatter. Any other ``sessionmd:`` marker is an error (a typo must not pass silently).
BODY_KINDS = ("estimate", "total")
FRONTMATTER_SECTIONS = (FRONTMATTER_SECTION,)
DIGEST_ATTR = "sha256"
CREATED_ATTR = ("created", "frontmatter")

_BODY_PREFIXES = ("<!-- sessionmd:", "<!-- /sessionmd:", "<!--sessionmd:", "<!--/sessionmd:")
_FM_PREFIX = "# sessionmd:"
_NAME = r"[a-z][a-z0-9_-]*"
_ATTRS = r"(?P<attrs>(?: [a-z][a-z0-9_-]*=[^\s=]+)*)"
_BODY_BEGIN = re.compile(rf"<!-- sessionmd:(?P<kind>{_NAME}){_ATTRS} -->[ \t]*")
_BODY_END = re.compile(rf"<!-- /sessionmd:(?P<kind>{_NAME}) -->[ \t]*")
_FM_MARKER = re.compile(rf"# sessionmd:(?P<kind>{_NAME}):(?P<edge>begin|end){_ATTRS}[ \t]*")


@dataclass(frozen=True)
class Block:
    """One generated block as found in a file (lines are 1-based, in that file)."""

    kind: str  # "estimate" or "total" in the body; "frontmatter:estimate" in the YAML
    attrs: dict[str, str]
    start_line: int
    end_line: int
    text: str  # the block's lines, markers included, exactly as in the file


@dataclass(frozen=True)
class Split:
    """A file's text taken apart: what the user wrote, and sessionmd's blocks."""

    stripped: str  # the plan as the user wrote it (BOM included), what strip() returns
    blocks: list[Block]
    line_map: list[int]  # line_map[i] = original 1-based line of stripped line i + 1
    newline: str  # the file's line ending, used for generated lines
    has_frontmatter: bool  # of the stripped text
    frontmatter_end: int = 0  # 1-based line of the stripped text's closing ``---`` (0: none)
    digest: str | None = None  # the sha256 recorded in the frontmatter marker
    frontmatter_created: bool = False
    blocks_by_kind: dict[str, list[Block]] = field(default_factory=dict)

    def original_line(self, stripped_line: int) -> int:
        """Where a line of the stripped text is in the file (clamped to the file)."""
        if not self.line_map:
            return 1
        index = min(max(stripped_line, 1), len(self.line_map)) - 1
        return self.line_map[index]


def lines_of(text: str) -> list[str]:
    """The text's lines with their endings; only ``\\n`` ends a line (not ``\\r`` alone)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def newline_of(text: str) -> str:
    """The line ending the file uses, judged by its first line (``\\n`` when it has none)."""
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    return "\n"


def _content(line: str) -> str:
    """The line without its ending (``\\n`` or ``\\r\\n``)."""
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):
        line = line[:-1]
    return line


_DELIMITER = re.compile(r"-{3,}[ \t]*")


def is_delimiter(content: str) -> bool:
    """A frontmatter delimiter line, as ``sessionmd.plan.frontmatter`` reads it."""
    return _DELIMITER.fullmatch(content) is not None


def _frontmatter_close(lines: Sequence[str]) -> int:
    """0-based index of the closing ``---`` when line 0 opens a frontmatter, else -1."""
    if len(lines) < 2 or not is_delimiter(_content(lines[0])):
        return -1
    for index in range(1, len(lines)):
        if is_delimiter(_content(lines[index])):
            return index
    return -1


class _Fence:
    """CommonMark fenced-code tracking, just enough to know where markers do not count."""

    __slots__ = ("char", "opened_at", "width")

    def __init__(self) -> None:
        self.char = ""
        self.width = 0
        self.opened_at = 0

    @property
    def open(self) -> bool:
        return bool(self.char)

    def feed(self, line: str, number: int) -> None:
        text = _content(line)
        body = text.lstrip(" ")
        if len(text) - len(body) > 3 or body[:1] not in ("`", "~") or not body:
            return
        char = body[0]
        width = len(body) - len(body.lstrip(char))
        if width < 3:
            return
        rest = body[width:]
        if self.char:
            if char == self.char and width >= self.width and not rest.strip(" \t"):
                self.char = ""
            return
        if char == "`" and "`" in rest:
            return
        self.char, self.width, self.opened_at = char, width, number


_EVENT_STARTS = frozenset("<`~ ")
_EVENT = re.compile(r" {0,3}(?:```|~~~)|<!--")


def _event_lines(lines: Sequence[str], start: int) -> list[int]:
    """Indexes of the lines that may open or close a fence or be a marker.

    Every other line is user text whatever state the scan is in, so only these are
    looked at (a plan has few of them): this keeps ``--check`` fast.
    """
    starts, match = _EVENT_STARTS, _EVENT.match
    return [
        index
        for index in range(start, len(lines))
        if lines[index][:1] in starts and match(lines[index])
    ]


def _attrs(raw: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in raw.split())


def _is_body_marker(line: str) -> bool:
    return line.startswith(_BODY_PREFIXES)


def split(text: str, path: str = "<plan>") -> Split:
    """Separate the user's text from sessionmd's blocks; ``PlanError`` on bad markers."""
    bom = BOM if text.startswith(BOM) else ""
    lines = lines_of(text[len(bom) :])
    newline = newline_of(text)
    kept: list[str] = []
    line_map: list[int] = []
    blocks: list[Block] = []
    digest: str | None = None
    created = False

    body_from = 0
    close = _frontmatter_close(lines)
    fm_user_lines = 0
    if close > 0:
        fm_kept: list[tuple[str, int]] = [(lines[0], 1)]
        open_block: tuple[str, int, dict[str, str]] | None = None
        for index in range(1, close):
            line = lines[index]
            number = index + 1
            if not line.startswith(_FM_PREFIX):
                if open_block is None:
                    fm_kept.append((line, number))
                continue
            match = _FM_MARKER.fullmatch(_content(line))
            if match is None or match["kind"] not in FRONTMATTER_SECTIONS:
                raise PlanError(
                    f"unknown or malformed sessionmd marker {_content(line).strip()!r}",
                    path,
                    number,
                )
            kind, edge = match["kind"], match["edge"]
            if edge == "begin":
                if open_block is not None:
                    raise PlanError(
                        f"nested sessionmd marker: section opened at line {open_block[1]} "
                        "is not closed",
                        path,
                        number,
                    )
                open_block = (kind, number, _attrs(match["attrs"]))
                continue
            if open_block is None or open_block[0] != kind:
                raise PlanError(f"'# sessionmd:{kind}:end' without its begin marker", path, number)
            begin_kind, begin_line, attrs = open_block
            blocks.append(
                Block(
                    f"frontmatter:{begin_kind}",
                    attrs,
                    begin_line,
                    number,
                    "".join(lines[begin_line - 1 : number]),
                )
            )
            if begin_kind == FRONTMATTER_SECTION:
                digest = attrs.get(DIGEST_ATTR)
                created = created or attrs.get(CREATED_ATTR[0]) == CREATED_ATTR[1]
            open_block = None
        if open_block is not None:
            raise PlanError(
                f"'# sessionmd:{open_block[0]}:begin' is never closed before the end of the "
                "frontmatter",
                path,
                open_block[1],
            )
        fm_kept.append((lines[close], close + 1))
        fm_user_lines = len(fm_kept) - 2
        if not (created and fm_user_lines == 0):
            for line, number in fm_kept:
                kept.append(line)
                line_map.append(number)
        body_from = close + 1

    fence = _Fence()
    open_body: tuple[str, int, dict[str, str]] | None = None
    spans: list[tuple[int, int]] = []  # 0-based first and last line of each body block
    for index in _event_lines(lines, body_from):
        line = lines[index]
        number = index + 1
        if open_body is None and fence.open:
            fence.feed(line, number)
            continue
        if _is_body_marker(line):
            content = _content(line)
            begin = _BODY_BEGIN.fullmatch(content)
            end = _BODY_END.fullmatch(content) if begin is None else None
            found = begin or end
            kind = found["kind"] if found is not None else ""
            if kind not in BODY_KINDS:
                raise PlanError(
                    f"unknown or malformed sessionmd marker {content.strip()!r}", path, number
                )
            if begin is not None:
                if open_body is not None:
                    raise PlanError(
                        f"nested sessionmd marker: block '{open_body[0]}' opened at line "
                        f"{open_body[1]} is not closed",
                        path,
                        number,
                    )
                open_body = (kind, number, _attrs(begin["attrs"]))
                continue
            if open_body is None or open_body[0] != kind:
                what = f"block '{open_body[0]}' opened at line {open_body[1]}" if open_body else ""
                raise PlanError(
                    f"'<!-- /sessionmd:{kind} -->' without its begin marker"
                    + (f" ({what} is still open)" if what else ""),
                    path,
                    number,
                )
            begin_kind, begin_line, attrs = open_body
            blocks.append(
                Block(
                    begin_kind, attrs, begin_line, number, "".join(lines[begin_line - 1 : number])
                )
            )
            spans.append((begin_line - 1, index))
            open_body = None
            continue
        if open_body is None:
            fence.feed(line, number)
    if open_body is not None:
        raise PlanError(f"'<!-- sessionmd:{open_body[0]} -->' is never closed", path, open_body[1])
    position = body_from
    for first, last in spans:
        kept.extend(lines[position:first])
        line_map.extend(range(position + 1, first + 1))
        position = last + 1
    kept.extend(lines[position:])
    line_map.extend(range(position + 1, len(lines) + 1))
    if spans and spans[-1][1] == len(lines) - 1 and not lines[-1].endswith("\n") and kept:
        # apply() put the file's newline before a block at the end of a file that had
        # none: take exactly that away (a last line may end in a lone CR of its own).
        kept[-1] = kept[-1].removesuffix(newline)

    fm_end = 0
    if close > 0 and not (created and fm_user_lines == 0):
        fm_end = fm_user_lines + 2
    by_kind: dict[str, list[Block]] = {}
    for block in blocks:
        by_kind.setdefault(block.kind, []).append(block)
    return Split(
        stripped=bom + "".join(kept),
        blocks=blocks,
        line_map=line_map,
        newline=newline,
        has_frontmatter=fm_end > 0,
        frontmatter_end=fm_end,
        digest=digest,
        frontmatter_created=created,
        blocks_by_kind=by_kind,
    )


def strip(text: str, path: str = "<plan>") -> str:
    """The plan as the user wrote it: every sessionmd block removed (like ``cog -x``)."""
    return split(text, path).stripped


def _with_newline(lines: Sequence[str], newline: str) -> list[str]:
    return [line + newline for line in lines]


def _body_lines(body: str) -> list[str]:
    return [_content(line) for line in lines_of(body.replace("\r\n", "\n"))]


def render_block(kind: str, attrs: Mapping[str, str], body: str, newline: str) -> list[str]:
    """A body block's lines (markers included), each ending with ``newline``."""
    head = "".join(f" {key}={_attr_value(value)}" for key, value in attrs.items())
    return _with_newline(
        [f"<!-- sessionmd:{kind}{head} -->", *_body_lines(body), f"<!-- /sessionmd:{kind} -->"],
        newline,
    )


def _attr_value(value: str) -> str:
    cleaned = re.sub(r"[\s=]+", "_", value.strip()).replace("-->", "--")
    return cleaned or "_"


def render_frontmatter_section(
    yaml_text: str, newline: str, digest: str | None, created: bool
) -> list[str]:
    """The frontmatter section's lines, between its YAML comment markers."""
    attrs = ""
    if created:
        attrs += f" {CREATED_ATTR[0]}={CREATED_ATTR[1]}"
    if digest is not None:
        attrs += f" {DIGEST_ATTR}={digest}"
    return _with_newline(
        [
            f"# sessionmd:{FRONTMATTER_SECTION}:begin{attrs}",
            *_body_lines(yaml_text),
            f"# sessionmd:{FRONTMATTER_SECTION}:end",
        ],
        newline,
    )


def fence_spans(lines: Sequence[str], start: int = 0) -> list[tuple[int, int]]:
    """(opening line, closing line) of each fence from line index ``start`` (1-based lines).

    A fence left open runs to one past the last line.
    """
    fence = _Fence()
    spans: list[tuple[int, int]] = []
    for index in _event_lines(lines, start):
        was_open = fence.open
        fence.feed(lines[index], index + 1)
        if not was_open and fence.open:
            spans.append((index + 1, len(lines) + 1))
        elif was_open and not fence.open:
            spans[-1] = (spans[-1][0], index + 1)
    return spans


def apply(
    stripped_text: str,
    plan: Plan,
    phase_blocks: Mapping[str, str],
    total_block: str | None,
    frontmatter_yaml: str | None,
    digest: str | None = None,
    path: str = "<plan>",
) -> str:
    """Put sessionmd's blocks into a plan's stripped text; every user byte stays as it was.

    ``phase_blocks`` maps a phase number to its generated lines (without markers), placed
    after ``Phase.block_after_line`` (its heading when unset); ``total_block`` goes after
    ``Plan.total_after_line`` (the end when unset); ``frontmatter_yaml`` is spliced into the
    frontmatter before its closing ``---`` (a frontmatter is created when there is none).
    Line numbers are those of ``stripped_text``. A position inside fenced code moves to just
    before the fence, so that :func:`split` finds the markers again.
    """
    bom = BOM if stripped_text.startswith(BOM) else ""
    lines = lines_of(stripped_text[len(bom) :])
    newline = newline_of(stripped_text)
    if "sessionmd:" in stripped_text and split(stripped_text, path).blocks:
        raise PlanError("sessionmd blocks are already in the text: strip it first", path, 1)

    close = _frontmatter_close(lines)
    inserts: dict[int, list[str]] = {}
    body_start = close + 1 if close >= 0 else 0
    fences = fence_spans(lines, body_start)
    opens = [opened for opened, _ in fences]

    def place(after: int) -> int:
        """``after`` (insert after that line), moved out of fenced code."""
        after = min(max(after, 0), len(lines))
        if after <= body_start:
            return body_start
        index = bisect_right(opens, after) - 1
        if index >= 0 and after < fences[index][1]:
            return fences[index][0] - 1
        return after

    for phase in plan.phases:
        body = phase_blocks.get(phase.number)
        if body is None:
            continue
        after = place(phase.block_after_line or phase.line)
        inserts.setdefault(after, []).extend(
            render_block("estimate", {"phase": phase.number}, body, newline)
        )
    if total_block is not None:
        after = place(plan.total_after_line or len(lines))
        inserts.setdefault(after, []).extend(render_block("total", {}, total_block, newline))

    out: list[str] = [bom]
    if frontmatter_yaml is not None:
        section = render_frontmatter_section(frontmatter_yaml, newline, digest, close < 0)
        if close >= 0:
            out.extend(lines[:close])
            out.extend(section)
            out.append(lines[close])
        else:
            out.append("---" + newline)
            out.extend(section)
            out.append("---" + newline)
    elif close >= 0:
        out.extend(lines[: close + 1])

    last = len(lines)
    position = body_start
    for index in sorted(inserts):
        block_lines = inserts[index]
        out.extend(lines[position:index])
        position = index
        if index == last and last > 0 and not lines[-1].endswith("\n"):
            # Mirror a file without a final newline: the block ends without one too.
            out.append(newline)
            block_lines = [*block_lines[:-1], _content(block_lines[-1])]
        out.extend(block_lines)
    out.extend(lines[position:])
    return "".join(out)
