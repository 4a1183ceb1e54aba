"""The process memory policy: a settled heap is out of the collector's walks; release collects."""

from __future__ import annotations

import gc
import weakref

from onesearch.memory import release_memory, settle_heap


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    """A cycle only the collector frees; a weak reference that dies when it is freed."""
    node = Node()
    node.other = node
    return weakref.ref(node)


def test_settle_heap_collects_first_then_freezes_only_what_is_alive() -> None:
    gc.unfreeze()
    try:
        garbage = _cycle()
        settle_heap()
        assert garbage() is None  # collected, not frozen
        frozen = gc.get_freeze_count()
        assert frozen > 0
        later = _cycle()  # garbage made after settling is still the collector's to free
        gc.collect()
        assert later() is None
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_release_memory_collects_cycles() -> None:
    garbage = _cycle()
    release_memory()
    assert garbage() is None
