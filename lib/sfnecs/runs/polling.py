"""How a wait polls: the backoff between calls, and the count of calls made.

Why apart: waiting for a run (`wait`), for the next scheduled run (`wait_for_next`) and a direct
run all poll with the same Backoff, and bench/wait_calls.py compares the calls counted here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sfnecs.checks import check_positive
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr


@dataclass(frozen=True)
class Backoff:
    """Poll delays: `initial`, then x`factor` each time, never more than `cap` (real seconds).

    Why these defaults: a failure to launch shows within a second or two, so the first polls come
    at 0.5, 1.3 and 2.6 s; a job that runs for minutes needs no second-by-second check, so delays
    grow by 1.6x up to 10 s. A finished run is noticed within 10 s, and waiting for a 60 s job
    costs under a quarter of the calls of polling every second (bench/wait_calls.py measures it).
    """

    initial: float = 0.5
    factor: float = 1.6
    cap: float = 10.0

    def __post_init__(self) -> None:
        for name in ("initial", "cap"):
            check_positive(name, getattr(self, name), 3600, "seconds")
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)) or not 1 <= self.factor <= 10:
            raise ValidationError("factor", self.factor, N_("a number from 1 to 10"))
        if self.cap < self.initial:
            raise ValidationError("cap", self.cap, tr("at least initial={initial}", initial=self.initial))

    def delays(self) -> Iterator[float]:
        """The endless sequence of delays."""
        delay = float(self.initial)
        while True:
            yield delay
            delay = min(self.cap, delay * self.factor)

    def scaled(self, speed: float) -> Backoff:
        """The same schedule `speed` times faster (for a sandbox whose clock runs `speed`x)."""
        return Backoff(self.initial / speed, self.factor, self.cap / speed)


#: the default of every wait (frozen, so one instance serves all)
DEFAULT_BACKOFF = Backoff()


class _Counter:
    """Counts the AWS calls one wait makes (the quantity bench/wait_calls.py compares)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        self.n += 1
        return method(**kwargs)
