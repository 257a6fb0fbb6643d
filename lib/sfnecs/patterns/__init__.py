"""Pattern A (Scheduler -> ECS RunTask) versus pattern B (Scheduler -> Step Functions -> runTask.sync).

Why: the choice is usually argued from opinion ("`.sync` prevents overlaps"). This package argues it
from evidence: a feature table whose every cell cites a fact id (docs/facts.md) or a simulation result key, the
corrected misconceptions, and a seeded discrete-event simulation of both patterns with counts and a
cost model (`sfnecs.model.prices`).

The modules, in dependency order:
  scenario     Scenario, Variant: what to simulate (validated)
  transitions  the states an execution enters on each path (billed transitions)
  draws        the random draws every variant shares, and the per-tick reference draw
  tasks        task runs and their overlaps
  engine       what happens to each delivery under each variant (traces)
  sparse       the sparse draw: only the unusual deliveries and those they can meet
  results      VariantResult, SimulationResult: counts, overlap, cost
  simulation   simulate_variants, compare, expected_counts (and the simulation semantics)
  plot         scenario_timeline: a Gantt chart per variant
  facts        feature_table, misconceptions
  monthly_cost what one deployed stack costs a month, with its assumptions; what a few runs cost

Only the public names are re-exported here; tests and benches import the engine's private parts
from their modules.
"""

from sfnecs.patterns.engine import DISPOSITIONS
from sfnecs.patterns.facts import feature_table, misconceptions
from sfnecs.patterns.monthly_cost import CostEstimate, UsageCost, monthly_cost, runs_per_month, usage_cost
from sfnecs.patterns.plot import scenario_timeline
from sfnecs.patterns.results import COUNT_KEYS, SimulationResult, VariantResult
from sfnecs.patterns.scenario import COMPARED_VARIANTS, DURATION_KINDS, VARIANTS, Scenario, Variant
from sfnecs.patterns.simulation import METHODS, compare, expected_counts, simulate_variants
from sfnecs.patterns.transitions import execution_states, transitions_table

__all__ = [
    "COMPARED_VARIANTS",
    "COUNT_KEYS",
    "CostEstimate",
    "DISPOSITIONS",
    "DURATION_KINDS",
    "METHODS",
    "VARIANTS",
    "Scenario",
    "SimulationResult",
    "UsageCost",
    "Variant",
    "VariantResult",
    "compare",
    "execution_states",
    "expected_counts",
    "feature_table",
    "misconceptions",
    "monthly_cost",
    "runs_per_month",
    "scenario_timeline",
    "simulate_variants",
    "transitions_table",
    "usage_cost",
]
