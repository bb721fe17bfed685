"""Paging through ``.../etats`` listings (v2 ``numeroPage``, 1-based; v1 may answer a bare list).

A page is ``{"total", "count", "page", <items_key>: [...]}``, sometimes wrapped in a one-element
array (the older AKTO notes), or a top-level array of every item with no page wrapper
(convergence-api.md 0): the profile's ``etats.page_shape``. The walk stops on an empty page,
when the items collected reach ``total``, when an unpaged (bare list) answer came, or when a
page is shorter than the profile's page size and no ``total`` is given. A page identical to the
previous one means the OPCO ignores ``numeroPage``: that is an error (PermanentOpcoError), not an
endless loop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from relais.errors import PermanentOpcoError

MAX_PAGES = 10_000


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int | None
    paged: bool  # False: a bare list, the whole collection at once


def unwrap(body: Any) -> Any:
    """Undo the one-element-array wrapping of an object (AKTO)."""
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        return body[0]
    return body


def _is_page(obj: Any, items_key: str) -> bool:
    if not isinstance(obj, dict):
        return False
    lowered = items_key.lower()
    return "total" in obj or any(k.lower() == lowered for k in obj)


def parse_page(
    body: Any, items_key: str, *, opco: str = "", route: str = "", shape: str = "object"
) -> Page:
    """One page in the profile's ``etats.page_shape``; a one-element array is unwrapped only when
    its element is a page (a top-level array of ONE item is that item, not a page)."""
    if (
        isinstance(body, list)
        and len(body) == 1
        and shape != "array"
        and _is_page(body[0], items_key)
    ):
        body = body[0]
    if isinstance(body, list):
        return Page([item for item in body if isinstance(item, dict)], None, paged=False)
    if not isinstance(body, dict):
        raise PermanentOpcoError(f"{opco} {route}: page is not an object", opco=opco)
    items = _items(body, items_key)
    if items is None:
        raise PermanentOpcoError(f"{opco} {route}: page lacks {items_key}", opco=opco)
    total = body.get("total")
    return Page(
        items, total if isinstance(total, int) and not isinstance(total, bool) else None, True
    )


def _items(body: dict[str, Any], items_key: str) -> list[dict[str, Any]] | None:
    value = body.get(items_key)
    if value is None:
        # Tolerate a different casing of the items key (e.g. etatDossierResult).
        lowered = items_key.lower()
        value = next((v for k, v in body.items() if k.lower() == lowered), None)
    if value is None:
        return [] if body.get("count") == 0 or body.get("total") == 0 else None
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, dict)]


async def paginate(
    fetch: Callable[[int], Awaitable[Any]],
    items_key: str,
    *,
    page_size: int,
    opco: str = "",
    route: str = "",
    max_pages: int = MAX_PAGES,
    shape: str = "object",
) -> AsyncIterator[dict[str, Any]]:
    """Yield every item, fetching page 1, 2, ... with ``fetch(page_number)``."""
    collected = 0
    previous: str | None = None
    for number in range(1, max_pages + 1):
        page = parse_page(await fetch(number), items_key, opco=opco, route=route, shape=shape)
        if not page.items:
            return
        fingerprint = _fingerprint(page.items)
        if fingerprint == previous:
            raise PermanentOpcoError(
                f"{opco} {route}: page {number} repeats page {number - 1} (numeroPage ignored?)",
                opco=opco,
            )
        previous = fingerprint
        for item in page.items:
            yield item
        collected += len(page.items)
        if not page.paged:
            return
        if page.total is not None and collected >= page.total:
            return
        if page.total is None and len(page.items) < page_size:
            return
    raise PermanentOpcoError(f"{opco} {route}: more than {max_pages} pages", opco=opco)


def _fingerprint(items: list[dict[str, Any]]) -> str:
    raw = json.dumps(items, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()
