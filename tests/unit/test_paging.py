"""The services' one cursor loop: every item in order, and no page read past where the caller stopped."""

from __future__ import annotations

from itertools import islice

from backend.domain.models import Page
from backend.services.paging import every


class PagedList:
    """A store query over ``items`` in pages of ``size`` (the cursor is the next index), counting the reads."""

    def __init__(self, items: list[int], size: int) -> None:
        self.items, self.size, self.reads = items, size, 0

    def fetch(self, cursor: str | None) -> Page[int]:
        self.reads += 1
        start = int(cursor or 0)
        end = start + self.size
        return Page(items=self.items[start:end], next_cursor=str(end) if end < len(self.items) else None)


def test_every_item_of_every_page_comes_once_in_order() -> None:
    query = PagedList(list(range(7)), size=3)
    assert list(every(query.fetch)) == list(range(7))
    assert query.reads == 3


def test_an_empty_query_is_one_read() -> None:
    query = PagedList([], size=3)
    assert list(every(query.fetch)) == []
    assert query.reads == 1


def test_a_caller_that_stops_early_reads_no_further_page() -> None:
    query = PagedList(list(range(10)), size=3)
    assert list(islice(every(query.fetch), 4)) == [0, 1, 2, 3]
    assert query.reads == 2


def test_an_empty_cursor_ends_the_query_instead_of_starting_it_again() -> None:
    reads: list[str | None] = []

    def fetch(cursor: str | None) -> Page[int]:
        reads.append(cursor)
        return Page(items=[1], next_cursor="")

    assert list(every(fetch)) == [1]
    assert reads == [None]
