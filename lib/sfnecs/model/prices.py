"""The prices the A-vs-B cost model uses, in one place, each with its source.

Why a frozen, overridable dataclass: prices change and differ by region, so the defaults are only a
starting point: check them before quoting (docs/facts.md, "Prices"). A caller passes
`Prices(fargate_x86_vcpu_hour=...)` for their own numbers; `to_frame()` shows every value with its
source, whether the source is *community* (not an AWS page), and whether it was overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from sfnecs.checks import check_number
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_

AWS_SFN_PRICING = "https://aws.amazon.com/step-functions/pricing/"


@dataclass(frozen=True)
class PriceSource:
    """Where one default price comes from and its unit."""

    unit: str
    source: str
    community: bool


_US_X86 = "Fargate us-east-1 Linux/x86 (fact: fargate-price-us-east-1)"
_US_ARM = "Fargate us-east-1 Linux/ARM (fact: fargate-price-us-east-1)"
# Units and the sources' words are marked with N_: `to_frame` keeps the English, the display translates
# them; the strings are literal (no format) so the catalog holds them whole, with their URL and fact id.
_VCPU_HOUR, _GB_HOUR = N_("USD per vCPU-hour"), N_("USD per GB-hour")

#: One entry per `Prices` field; community sources are marked as the facts' sources are (docs/facts.md).
PRICE_SOURCES: dict[str, PriceSource] = {
    "sfn_per_1000_transitions": PriceSource(
        N_("USD per 1,000 state transitions"),
        N_("https://aws.amazon.com/step-functions/pricing/ (Standard; retries count) (fact: sfn-standard-price)"),
        False,
    ),
    "sfn_free_transitions_per_month": PriceSource(
        N_("state transitions per month"),
        N_("https://aws.amazon.com/step-functions/pricing/ (free tier, does not expire)"),
        False,
    ),
    "scheduler_per_million": PriceSource(
        N_("USD per million invocations"), N_("EventBridge Scheduler pricing (fact: scheduler-price)"), True
    ),
    "scheduler_free_per_month": PriceSource(
        N_("invocations per month"), N_("EventBridge Scheduler free tier (fact: scheduler-price)"), True
    ),
    "fargate_x86_vcpu_hour": PriceSource(_VCPU_HOUR, _US_X86, False),
    "fargate_x86_gb_hour": PriceSource(_GB_HOUR, _US_X86, False),
    "fargate_arm_vcpu_hour": PriceSource(_VCPU_HOUR, _US_ARM, True),
    "fargate_arm_gb_hour": PriceSource(_GB_HOUR, _US_ARM, True),
    "fargate_minimum_seconds": PriceSource(
        N_("seconds billed at least per task"),
        N_("per-second billing, one-minute minimum (Linux) (fact: fargate-minimum-billing)"),
        True,
    ),
}

#: Tokyo (ap-northeast-1) Linux/x86 Fargate prices (*community*). No ARM price is recorded for
#: Tokyo, so `for_region` leaves ARM unknown rather than inventing one.
_TOKYO = "Fargate ap-northeast-1 Linux/x86 (fact: fargate-price-tokyo)"
_NO_PRICE = N_("unknown: no ARM price recorded for this region (fact: fargate-price-tokyo)")
REGIONAL_FARGATE: dict[str, dict[str, tuple[float | None, PriceSource]]] = {
    "ap-northeast-1": {
        "fargate_x86_vcpu_hour": (0.05056, PriceSource(_VCPU_HOUR, _TOKYO, True)),
        "fargate_x86_gb_hour": (0.005536, PriceSource(_GB_HOUR, _TOKYO, True)),
        "fargate_arm_vcpu_hour": (None, PriceSource(_VCPU_HOUR, _NO_PRICE, False)),
        "fargate_arm_gb_hour": (None, PriceSource(_GB_HOUR, _NO_PRICE, False)),
    },
}


@dataclass(frozen=True)
class Prices:
    """Unit prices for the cost model (USD); defaults are us-east-1 (see docs/facts.md, "Prices").

    ARM prices may be None (unknown for a region): asking for an ARM64 cost then raises.
    """

    sfn_per_1000_transitions: float = 0.025
    sfn_free_transitions_per_month: int = 4_000
    scheduler_per_million: float = 1.00
    scheduler_free_per_month: int = 14_000_000
    fargate_x86_vcpu_hour: float = 0.04048
    fargate_x86_gb_hour: float = 0.004445
    fargate_arm_vcpu_hour: float | None = 0.03238
    fargate_arm_gb_hour: float | None = 0.00356
    fargate_minimum_seconds: int = 60

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name.startswith("fargate_arm_"):
                continue
            check_number(f.name, value, 0, strict=False, what=f" ({PRICE_SOURCES[f.name].unit})")

    @classmethod
    def for_region(cls, region: str, **overrides: Any) -> Prices:
        """Defaults for a region the kit has Fargate prices for (us-east-1, ap-northeast-1)."""
        if region != "us-east-1" and region not in REGIONAL_FARGATE:
            raise ValidationError(
                "region",
                region,
                "a region with recorded Fargate prices: us-east-1, "
                + ", ".join(REGIONAL_FARGATE)
                + " (or pass Prices(...) yourself)",
            )
        preset = {name: value for name, (value, _) in REGIONAL_FARGATE.get(region, {}).items()}
        return cls(**{**preset, **overrides})

    def billed_seconds(self, seconds: float) -> float:
        """The seconds Fargate bills a task that ran `seconds`: per second, at least the minimum
        (fact: fargate-minimum-billing)."""
        return max(float(seconds), float(self.fargate_minimum_seconds))

    def fargate_rates(self, cpu_architecture: str) -> tuple[float, float]:
        """(USD per vCPU-hour, USD per GB-hour) for X86_64 or ARM64."""
        if cpu_architecture == "X86_64":
            return self.fargate_x86_vcpu_hour, self.fargate_x86_gb_hour
        if cpu_architecture == "ARM64":
            if self.fargate_arm_vcpu_hour is None or self.fargate_arm_gb_hour is None:
                raise ValidationError(
                    "cpu_architecture",
                    cpu_architecture,
                    "X86_64 here: no ARM64 Fargate price is "
                    "known for this region; pass Prices(fargate_arm_vcpu_hour=..., "
                    "fargate_arm_gb_hour=...)",
                )
            return self.fargate_arm_vcpu_hour, self.fargate_arm_gb_hour
        raise ValidationError("cpu_architecture", cpu_architecture, "use X86_64 or ARM64")

    def to_frame(self) -> pd.DataFrame:
        """One row per price: value, unit, source, community flag, overridden or default."""
        default = Prices()
        rows = []
        for f in fields(self):
            value = getattr(self, f.name)
            known = [(getattr(default, f.name), PRICE_SOURCES[f.name])]
            known += [preset[f.name] for preset in REGIONAL_FARGATE.values() if f.name in preset]
            source = next((src for v, src in known if v == value), None)
            rows.append(
                {
                    N_("price"): f.name,
                    N_("value"): value,
                    N_("unit"): PRICE_SOURCES[f.name].unit,
                    N_("source"): source.source if source else N_("caller override"),
                    N_("community"): source.community if source else False,
                    N_("overridden"): source is None,
                }
            )
        frame = pd.DataFrame(rows)
        frame["value"] = pd.Series([r["value"] for r in rows], dtype=object)  # keep ints as ints
        return frame.set_index("price")
