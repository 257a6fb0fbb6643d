"""The sandbox's virtual clock: real time by default, faster on request, or stepped by tests.

Why: scheduled jobs run for minutes and fire every few minutes; tests and lessons need a day of
schedule in seconds without changing what happens, only how fast. Emulated task durations, schedule
firings and Step Functions' Retry intervals and Wait states read this clock; Task and execution
TimeoutSeconds stay on the real clock (moto's interpreter measures them itself).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sfnecs.checks import check_positive
from sfnecs.exceptions import ValidationError


@dataclass(frozen=True)
class ClockState:
    """What the clock says now: virtual time and how fast it runs."""

    now: datetime
    speed: float
    paused: bool

    def to_dict(self) -> dict[str, object]:
        return {"now": self.now.isoformat(), "speed": self.speed, "paused": self.paused}


class VirtualClock:
    """Virtual time = anchor + (real elapsed since anchor) x speed, plus explicit advances."""

    MAX_SPEED = 100_000.0

    def __init__(self, start: datetime | None = None, speed: float = 1.0, *, _monotonic=time.monotonic):
        self._lock = threading.RLock()
        self._monotonic = _monotonic
        self._anchor_virtual = start or datetime.now(UTC)
        self._anchor_real = self._monotonic()
        self._speed = self._check_speed(speed)
        self._paused = False
        self._changed = threading.Condition(self._lock)

    @classmethod
    def _check_speed(cls, speed: float) -> float:
        return float(check_positive("speed", speed, cls.MAX_SPEED))

    def now(self) -> datetime:
        with self._lock:
            if self._paused:
                return self._anchor_virtual
            elapsed = self._monotonic() - self._anchor_real
            return self._anchor_virtual + timedelta(seconds=elapsed * self._speed)

    def _re_anchor(self) -> None:
        self._anchor_virtual = self.now()
        self._anchor_real = self._monotonic()

    def set_speed(self, speed: float) -> None:
        """Run `speed` virtual seconds per real second from now on (1 = real time)."""
        speed = self._check_speed(speed)
        with self._lock:
            self._re_anchor()
            self._speed = speed
            self._changed.notify_all()

    def pause(self) -> None:
        """Stop virtual time: only `advance()` moves it (deterministic tests)."""
        with self._lock:
            self._re_anchor()
            self._paused = True
            self._changed.notify_all()

    def resume(self) -> None:
        with self._lock:
            self._anchor_real = self._monotonic()
            self._paused = False
            self._changed.notify_all()

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0) -> datetime:
        """Jump virtual time forward; returns the new time."""
        total = seconds + 60 * minutes + 3600 * hours
        if total < 0:
            raise ValidationError("seconds", total, "a non-negative duration: the clock never goes back")
        with self._lock:
            self._re_anchor()
            self._anchor_virtual += timedelta(seconds=total)
            self._changed.notify_all()
            return self._anchor_virtual

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long `virtual_seconds` take in real time at the current speed (inf when paused)."""
        with self._lock:
            return float("inf") if self._paused else virtual_seconds / self._speed

    def state(self) -> ClockState:
        with self._lock:
            return ClockState(self.now(), self._speed, self._paused)

    def sleep(self, virtual_seconds: float, keep_going: Callable[[], bool] | None = None) -> bool:
        """Block for `virtual_seconds` of this clock: real seconds / speed, until an advance() when paused.

        Returns False early when `keep_going()` turns false (checked at least every 0.25 real s), else True.
        Why: Step Functions' own timers (Retry intervals, Wait states) run on this clock in the sandbox.
        """
        due = self.now() + timedelta(seconds=max(float(virtual_seconds), 0.0))
        while True:
            if keep_going is not None and not keep_going():
                return False
            now = self.now()
            if now >= due:
                return True
            self.wait_changed(min(self.real_seconds((due - now).total_seconds()), 0.25))

    def wait_changed(self, timeout: float) -> None:
        """Sleep up to `timeout` real seconds, waking early when the clock is changed."""
        with self._changed:
            self._changed.wait(timeout)
