"""The Studio's runs in order, newest first: cards made on demand, found by position or id.

A history can hold tens of thousands of runs; the page shows a few dozen at a time and asks
for the rows it scrolls to. So the list keeps history entries as they are read and makes a
:class:`~.run_card.Card` (and its :class:`~mountsea_widgets.run.Run`) only when a position is
asked for. Adding a run is O(1) (the order is kept oldest first, so a new run is appended);
finding a run's position is O(1) too (each run keeps its sequence number; removals are counted
in a Fenwick tree), so neither grows with the history.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .run_card import Card

if TYPE_CHECKING:
    from ..history import HistoryEntry

#: Makes the card of a history entry (the Studio's: it knows how runs are rebuilt and resumed).
CardMaker = Callable[["HistoryEntry"], Card]


class _Removals:
    """Counts removed slots below a position (a Fenwick tree that grows by doubling)."""

    def __init__(self) -> None:
        self._tree = [0] * 1025

    def _grow(self, size: int) -> None:
        old = len(self._tree) - 1
        if size <= old:
            return
        new = old
        while new < size:
            new *= 2
        # Rebuilt from point values: rare (doubling), so amortized O(1) per slot.
        points = [self.count_below(i + 1) - self.count_below(i) for i in range(old)]
        self._tree = [0] * (new + 1)
        for index, value in enumerate(points):
            if value:
                self.add(index, value)

    def add(self, slot: int, value: int = 1) -> None:
        """Mark ``slot`` removed (``value`` 1) or back (``-1``)."""
        self._grow(slot + 1)
        index = slot + 1
        while index < len(self._tree):
            self._tree[index] += value
            index += index & -index

    def count_below(self, slot: int) -> int:
        """How many slots under ``slot`` are removed."""
        index = min(slot, len(self._tree) - 1)
        total = 0
        while index > 0:
            total += self._tree[index]
            index -= index & -index
        return total


class RunList:
    """Runs newest first; thread-safe. Slots are kept oldest first: slot 0 is the oldest run
    read from the history, a new run takes the next slot at the top."""

    def __init__(self, make_card: CardMaker) -> None:
        self._make_card = make_card
        self._lock = threading.RLock()
        #: Run ids by slot (None where a run was removed).
        self._slots: list[str | None] = []
        self._slot_of: dict[str, int] = {}
        self._cards: dict[str, Card] = {}
        self._entries: dict[str, HistoryEntry] = {}
        self._removed = _Removals()
        #: Slots taken by older runs put below the ones shown first (see put_older).
        self._offset = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._slot_of)

    def __contains__(self, run_id: object) -> bool:
        with self._lock:
            return run_id in self._slot_of

    # --- adding and removing ------------------------------------------------------------------

    def add(self, card: Card) -> None:
        """Put ``card`` on top (the newest run)."""
        with self._lock:
            if card.run_id in self._slot_of:
                return
            self._slot_of[card.run_id] = len(self._slots)
            self._slots.append(card.run_id)
            self._cards[card.run_id] = card

    def put_older(self, entries: Iterable[HistoryEntry]) -> list[str]:
        """Put history ``entries`` (newest first) below every run listed; returns their ids.

        Called once when the history has been read (runs started meanwhile stay on top).
        """
        with self._lock:
            fresh = [entry for entry in entries if entry.run_id not in self._slot_of]
            fresh.reverse()  # oldest first, as slots go
            if not fresh:
                return []
            # Rebuilt once (the history was just read): every slot moves up by len(fresh).
            old = self._slots
            older: list[str | None] = [entry.run_id for entry in fresh]
            self._slots = older + old
            self._slot_of = {run_id: slot for slot, run_id in enumerate(self._slots) if run_id}
            self._removed = _Removals()
            for slot, run_id in enumerate(self._slots):
                if run_id is None:
                    self._removed.add(slot)
            for entry in fresh:
                self._entries[entry.run_id] = entry
            return [entry.run_id for entry in reversed(fresh)]

    def remove(self, run_id: str) -> bool:
        """Take the run out of the list; False when it was not listed."""
        with self._lock:
            slot = self._slot_of.pop(run_id, None)
            if slot is None:
                return False
            self._slots[slot] = None
            self._removed.add(slot)
            self._cards.pop(run_id, None)
            self._entries.pop(run_id, None)
            return True

    # --- reading ------------------------------------------------------------------------------

    def card(self, run_id: str) -> Card | None:
        """The card of ``run_id`` (made now if needed), None when not listed."""
        with self._lock:
            if run_id not in self._slot_of:
                return None
            card = self._cards.get(run_id)
            if card is not None:
                return card
            entry = self._entries[run_id]
        made = self._make_card(entry)  # outside the lock: rebuilding a run can take a moment
        with self._lock:
            card = self._cards.setdefault(run_id, made)
            self._entries.pop(run_id, None)
            return card

    def made(self, run_id: str) -> Card | None:
        """The card of ``run_id`` only if it was made already (nothing is built)."""
        with self._lock:
            return self._cards.get(run_id)

    def position(self, run_id: str) -> int | None:
        """The run's position, 0 for the newest; None when not listed."""
        with self._lock:
            slot = self._slot_of.get(run_id)
            if slot is None:
                return None
            return len(self._slot_of) - self._live_upto(slot)

    def ids(self, start: int, stop: int) -> list[str]:
        """The run ids at positions ``start`` to ``stop`` (newest first).

        O(log² n) to find ``start``, then one step per slot (removed slots are skipped).
        """
        with self._lock:
            start = max(0, start)
            found: list[str] = []
            slot = self._slot_at(start)
            while slot >= 0 and len(found) < stop - start:
                run_id = self._slots[slot]
                if run_id is not None:
                    found.append(run_id)
                slot -= 1
            return found

    def _live_upto(self, slot: int) -> int:
        """How many runs are listed in slots 0 to ``slot``."""
        return slot + 1 - self._removed.count_below(slot + 1)

    def _slot_at(self, position: int) -> int:
        """The slot of the run at ``position``, -1 when there is none."""
        wanted = len(self._slot_of) - position  # the wanted-th listed slot from the bottom
        if wanted < 1:
            return -1
        low, high = 0, len(self._slots) - 1
        while low < high:  # the lowest slot with ``wanted`` listed runs up to it
            middle = (low + high) // 2
            if self._live_upto(middle) >= wanted:
                high = middle
            else:
                low = middle + 1
        return low

    def cards(self, start: int = 0, stop: int | None = None) -> list[Card]:
        """The cards at positions ``start`` to ``stop`` (all by default), newest first."""
        size = len(self)
        chosen = self.ids(start, size if stop is None else min(stop, size))
        cards = [self.card(run_id) for run_id in chosen]
        return [card for card in cards if card is not None]

    def made_cards(self) -> list[Card]:
        """Every card made so far (in no particular order)."""
        with self._lock:
            return list(self._cards.values())

    def pending_entries(self) -> list[HistoryEntry]:
        """The unmade entries that wait for their task (to resume on opening)."""
        with self._lock:
            return [entry for entry in self._entries.values() if entry.is_pending]
