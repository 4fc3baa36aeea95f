"""Reading every item of a paged store query: the one cursor loop the services share.

Store queries return a :class:`~backend.domain.models.Page` and the cursor of the next one; walking them is the
same loop whatever is listed (patients, notes, history), so it is written once. It is lazy: a caller that stops
early (a search that has found enough) reads no further page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from backend.domain.models import Page

T = TypeVar("T")


def every(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """The items of ``fetch(None)``, then of each following page, in the store's order.

    Args:
        fetch: one page of the query from a cursor (None: the first page), e.g.
            ``lambda c: stores.patients.list_page(c, 200)``.
    """
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if not page.next_cursor:  # None (or an empty cursor) ends the query
            return
        cursor = page.next_cursor
