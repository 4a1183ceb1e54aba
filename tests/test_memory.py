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


def test_settle_heap_settles_again_after_the_warm_up() -> None:
    built: list[Node] = []
    gc.unfreeze()
    try:
        settle_heap()
        before = gc.get_freeze_count()
        garbage: list[weakref.ref[Node]] = []
        settle_heap(lambda: (built.extend(Node() for _ in range(50)), garbage.append(_cycle())))
        assert gc.get_freeze_count() >= before + 50  # what the warm-up built and kept is frozen too
        assert garbage[0]() is None  # what it left behind was collected first
    finally:
        gc.unfreeze()
