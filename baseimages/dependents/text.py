"""Finding a reference's text in a file's lines, as a whole word: the scanners say on which line a
reference is written, and `bump` rewrites exactly that word there."""

from __future__ import annotations

from collections.abc import Sequence

_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@")


def find_word(line: str, word: str) -> int:
    """Where WORD starts in LINE as a whole reference (not part of a longer one; `docker-image://` in
    front is allowed), or -1."""
    start = line.find(word)
    while start >= 0:
        end = start + len(word)
        before_ok = start == 0 or line[start - 1] not in _WORD or line[:start].endswith("://")
        after_ok = end == len(line) or line[end] not in _WORD
        if before_ok and after_ok:
            return start
        start = line.find(word, start + 1)
    return -1


def locate(lines: Sequence[str], first: int, word: str, last: int | None = None) -> int:
    """The 1-based number of the first line from line FIRST (1-based) to LAST that holds WORD; FIRST
    when none does."""
    stop = len(lines) if last is None else min(last, len(lines))
    for number in range(first, stop + 1):
        if find_word(lines[number - 1], word) >= 0:
            return number
    return first
