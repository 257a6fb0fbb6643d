"""The simulation's seeded results, pinned: a faster engine must give exactly the same numbers and frames.

Why: `simulate_variants` is tuned for speed (bench/simulate.py); each tuning must leave every result of
a seeded scenario bit for bit unchanged, for every variant and both methods, including the per-run and
per-delivery frames (which the sparse method draws again). tests/test_patterns.py checks the semantics
(a plain event loop, hand-computed cases, distributions); this file checks that nothing moved.

Regenerate after a deliberate change of the law or the draws (never to make a speed-up pass), then
review the diff:
    SFNECS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:randomly tests/test_patterns_golden.py
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.test_patterns import REFERENCE_CASES, SPARSE_CASES, _check_against_the_event_loop

from sfnecs.patterns import VARIANTS, Scenario, simulate_variants
from sfnecs.patterns.sparse import _draw

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "patterns" / "simulate.json"


def _bench_year() -> Scenario:
    """The scenario bench/simulate.py times: a year of one-minute ticks, mostly ordinary."""
    spec = importlib.util.spec_from_file_location("bench_simulate", ROOT / "bench" / "simulate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.YEAR


YEAR = _bench_year()
MINUTE, HOURLY = dict(horizon="5D", interval_minutes=1), dict(horizon="90D", interval_minutes=60)

#: name -> (scenario, frames too): each a different path through the sparse draw and the engine
CASES: dict[str, tuple[Scenario, bool]] = {
    "bench year": (YEAR, False),
    "bench month": (YEAR.replace(horizon="31D"), True),
    "bench month, other seed": (YEAR.replace(horizon="31D", seed=2), True),
    "bench week, no guard": (YEAR.replace(horizon="7D", seed=3, guard=False), True),
    "bench week, execution overhead": (YEAR.replace(horizon="7D", seed=4, execution_overhead_seconds=7.5), True),
    "bench month, no faults": (
        YEAR.replace(horizon="30D", seed=8, launch_failure_rate=0.0, job_failure_rate=0.0, duplicate_delivery_rate=0),
        True,
    ),
    "bench days, every run outlasts the interval": (
        YEAR.replace(horizon="3D", seed=9, duration_kind="fixed", duration_minutes=1.5),
        True,
    ),
    "five-minute ticks, exponential, constant retry waits": (
        YEAR.replace(
            horizon="90D",
            interval_minutes=5,
            seed=12,
            duration_kind="exponential",
            duration_minutes=1.2,
            duplicate_delivery_rate=0.005,
            retry_backoff_rate=1.0,
            retry_interval_seconds=30,
        ),
        True,
    ),
    **{
        f"minute ticks, sparse case {k}": (Scenario(**MINUTE, seed=5 + k, **c), True)
        for k, c in enumerate(SPARSE_CASES)
    },
    **{
        f"hourly, reference case {k}": (Scenario(**HOURLY, seed=10 + k, **c), True)
        for k, c in enumerate(REFERENCE_CASES)
    },
}


def _digest(frame: pd.DataFrame) -> dict[str, Any]:
    """Rows, and per column a sha256 of its values (exact: floats and times by their bytes)."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):  # the instants, as integers of the column's unit
            data = np.ascontiguousarray(column.array.asi8).tobytes() + str(column.dtype).encode()
        elif column.dtype.kind in "biuf":
            data = np.ascontiguousarray(column.to_numpy()).tobytes()
        else:  # categories, strings
            data = "\n".join(map(str, column.tolist())).encode()
        columns[name] = hashlib.sha256(data).hexdigest()[:16]
    return {"rows": int(frame.shape[0]), "columns": columns}


def _observe(s: Scenario, frames: bool) -> dict[str, Any]:
    """Every number of every variant by both methods (floats by repr: exact), and the frames' digests."""
    out: dict[str, Any] = {}
    for method in ("sparse", "per_tick"):
        result = simulate_variants(s, VARIANTS, method=method)
        numbers = {label: {k: repr(v) for k, v in result[label].to_dict().items()} for label in VARIANTS}
        out[method] = {"numbers": numbers}
        if frames:
            out[method]["runs"] = _digest(result.runs)
            out[method]["deliveries"] = _digest(result.deliveries)
    return out


def _stored() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


@pytest.mark.parametrize("name", list(CASES))
def test_seeded_results_are_exactly_the_pinned_ones(name: str) -> None:
    scenario, frames = CASES[name]
    got = _observe(scenario, frames)
    if os.environ.get("SFNECS_UPDATE_GOLDEN"):
        stored = _stored()
        stored[name] = got
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    expected = _stored().get(name)
    assert expected is not None, f"no golden for {name!r}: run with SFNECS_UPDATE_GOLDEN=1 and review"
    for method in ("sparse", "per_tick"):
        for label in VARIANTS:
            assert got[method]["numbers"][label] == expected[method]["numbers"][label], (method, label)
        if frames:
            assert got[method]["runs"] == expected[method]["runs"], (method, "runs")
            assert got[method]["deliveries"] == expected[method]["deliveries"], (method, "deliveries")


def test_the_pinned_cases_are_not_trivial() -> None:
    # the pins would prove little if the scenarios had nothing unusual in them
    stored = _stored()
    for name in (
        "bench year",
        "bench month",
        "minute ticks, sparse case 0",
        "hourly, reference case 4",
    ):
        numbers = stored[name]["sparse"]["numbers"]
        assert int(numbers["A"]["overlapping_launches"]) > 0, name
        assert int(numbers["B+guard+dedupe"]["skipped_by_guard"]) > 0, name
        assert int(numbers["B"]["failures"]) > 0, name
        assert int(numbers["B+guard+dedupe"]["already_exists"]) > 0, name
    assert set(stored) == set(CASES)


@pytest.mark.parametrize("seed", [7, 21])
def test_the_bench_scenario_matches_the_plain_event_loop(seed: int) -> None:
    # the scenario the speed-ups were made for, a few days of it, against the one-delivery-at-a-time loop
    s = YEAR.replace(horizon="3D", seed=seed)
    assert 0 < _draw(s).ticks.size < s.ticks // 3  # the sparse method left most deliveries out
    _check_against_the_event_loop(s, "sparse")
