"""The wall-clock budget of one solve, and the Clock every stage is handed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """What a stage needs of the solve budget: a share of the time left."""

    def share(self, fraction: float) -> float: ...


@dataclass(frozen=True)
class Budget:
    """Wall-clock budget of one solve."""

    start: float
    limit: float

    def left(self) -> float:
        """Seconds still available."""
        return self.limit - (time.monotonic() - self.start)

    def share(self, fraction: float) -> float:
        """A fraction of what is left, never negative."""
        return max(0.0, self.left() * fraction)
