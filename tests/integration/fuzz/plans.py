"""What one example of the limits fuzz sends, as small plain data (hypothesis draws plans, the
harness turns them into Kafka records): sizes around every limit, and one CFA using another's ids.

A plan names its CFAs by index (0 = A: own topic, HMAC secret; 1 = B: own topic; 2 = C: the shared
topic, any source) and its victims' ids by reference ("the valid event A sends at the end of this
example", "a dossier number A got from its OPCO"): the harness resolves them when it runs the
example, so a plan's repr stays short and a failing example reads as what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hypothesis import strategies as st

from relais.services.ingest.hygiene import MAX_ERRORS, MAX_PATH
from relais.services.statuses import MAX_STATUS_BYTES

A, B, C = 0, 1, 2
CFAS = (A, B, C)
TOPIC_OF = {A: "a", B: "b", C: "shared"}

# The documented limit of an id (ce_id, ce_subject = the key): the envelope's, and ingest's MAX_ID
# for what it copies from headers or the key. Written out, not imported: a fuzz whose sizes followed
# MAX_ID would not notice it growing.
ID_LIMIT = 200
# one character of 1 to 4 bytes in UTF-8: the key and headers are bounded in bytes (4 * MAX_ID)
# before they are decoded, then in characters (MAX_ID)
CHARS = ("a", "é", "€", "\U0001f600")
HUGE = (450_000, 1_200_000)  # the two poison records of the issue, in bytes
ID_LENGTHS = (ID_LIMIT - 1, ID_LIMIT, ID_LIMIT + 1, 4 * ID_LIMIT, 4 * ID_LIMIT + 1, *HUGE)
# above / below kafka.max_message_bytes, in bytes (the large one beyond Kafka's default 1 MiB)
VALUE_DELTAS = (-1, 0, 1, 1024, 1_100_000)
ERROR_COUNTS = (1, MAX_ERRORS - 1, MAX_ERRORS, MAX_ERRORS + 1)
PATH_LENGTHS = (8, 120, MAX_PATH - 5, MAX_PATH + 20)
# outbox rows written before the bounds existed: around MAX_STATUS_BYTES, and beyond the producer's
# 1 MiB (what the relay sets aside, or once published, or retried forever)
ROW_SIZES = (MAX_STATUS_BYTES - 1, MAX_STATUS_BYTES, MAX_STATUS_BYTES + 1, 1_200_000)


@dataclass(frozen=True)
class SizedId:
    """``cfa``'s own valid dossier event with one id of ``length`` characters ``char`` (of
    ``length`` bytes for the HUGE ones): the
    Kafka key, ``ce_id``, ``ce_subject``, the dossier id (key and subject together), another
    ``ce_`` header, or a header outside CloudEvents."""

    cfa: int
    field: Literal["key", "ce_id", "ce_subject", "dossier", "ce_other", "x-header"]
    length: int
    char: str


@dataclass(frozen=True)
class SizedValue:
    """``cfa``'s own valid dossier event padded with JSON whitespace to
    ``kafka.max_message_bytes + delta`` bytes."""

    cfa: int
    delta: int


@dataclass(frozen=True)
class ManyErrors:
    """``cfa``'s own event whose data holds ``count`` text values with a NUL, each under a key
    of about ``path_length`` characters: as many errors (up to MAX_ERRORS) with long paths, a
    ``rejected`` status around MAX_STATUS_BYTES."""

    cfa: int
    count: int
    path_length: int


@dataclass(frozen=True)
class ReusedId:
    """``by`` sends, from its own topic, an event (valid or not) whose ``ce_id`` is the one
    ``victim``'s valid event of this example will have."""

    by: int
    victim: int
    valid: bool


@dataclass(frozen=True)
class ReusedDossier:
    """``by`` sends, from its own topic, a valid dossier under the dossier id ``victim``'s valid
    event of this example will have."""

    by: int
    victim: int


@dataclass(frozen=True)
class ForeignNumero:
    """``by`` sends a convention naming, as ``numeroInterneDossier``, the OPCO number of one of
    ``victim``'s dossiers (``pick``-th known one); for one of its own dossiers, or under the
    victim's dossier id (``under_victim_id``)."""

    by: int
    victim: int
    pick: int
    under_victim_id: bool


@dataclass(frozen=True)
class Forged:
    """A copy of ``victim``'s valid event of this example (same ids, same data, sent before it),
    on a topic that may not carry the victim's source or without the victim's signature."""

    victim: int
    topic: Literal["a", "b", "shared", "unmapped"]
    signature: Literal["none", "wrong"]


@dataclass(frozen=True)
class LegacyRow:
    """A status row of ``cfa`` of ``size`` bytes written straight into the outbox, as rows were
    before statuses were bounded: published when it fits MAX_STATUS_BYTES, else set aside."""

    cfa: int
    size: int


Hostile = (
    SizedId
    | SizedValue
    | ManyErrors
    | ReusedId
    | ReusedDossier
    | ForeignNumero
    | Forged
    | LegacyRow
)


def _forgeable(victim: int, topic: str) -> bool:
    """A record naming ``victim`` on ``topic`` is not established as the victim's (A signs; B
    owns topic b; the shared topic takes any source but A's unsigned ones)."""
    if victim == A:
        return True  # no valid signature: refused everywhere
    return topic != TOPIC_OF[victim] and topic != "shared"


cfas = st.sampled_from(CFAS)
other_pairs = st.tuples(cfas, cfas).filter(lambda p: p[0] != p[1])


def sized_ids(lengths: tuple[int, ...]) -> st.SearchStrategy[SizedId]:
    return st.builds(
        SizedId,
        cfa=cfas,
        field=st.sampled_from(["key", "ce_id", "ce_subject", "dossier", "ce_other", "x-header"]),
        length=st.sampled_from(lengths),
        char=st.sampled_from(CHARS),
    )


hostile: st.SearchStrategy[Hostile] = st.one_of(
    sized_ids(ID_LENGTHS[: -len(HUGE)]),  # around the limit
    sized_ids(HUGE),  # the poison records' sizes
    st.builds(SizedValue, cfa=cfas, delta=st.sampled_from(VALUE_DELTAS)),
    st.builds(
        ManyErrors,
        cfa=cfas,
        count=st.sampled_from(ERROR_COUNTS),
        path_length=st.sampled_from(PATH_LENGTHS),
    ),
    other_pairs.flatmap(
        lambda p: st.builds(ReusedId, by=st.just(p[0]), victim=st.just(p[1]), valid=st.booleans())
    ),
    other_pairs.map(lambda p: ReusedDossier(by=p[0], victim=p[1])),
    other_pairs.flatmap(
        lambda p: st.builds(
            ForeignNumero,
            by=st.just(p[0]),
            victim=st.just(p[1]),
            pick=st.integers(0, 50),
            under_victim_id=st.booleans(),
        )
    ),
    st.tuples(cfas, st.sampled_from(["a", "b", "shared", "unmapped"]))
    .filter(lambda p: _forgeable(*p))
    .flatmap(
        lambda p: st.builds(
            Forged,
            victim=st.just(p[0]),
            topic=st.just(p[1]),
            signature=st.sampled_from(["none", "wrong"]),
        )
    ),
    st.builds(LegacyRow, cfa=cfas, size=st.sampled_from(ROW_SIZES)),
)

plans = st.lists(hostile, min_size=1, max_size=6)
