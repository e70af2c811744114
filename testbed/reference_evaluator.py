"""The oracle for execution match: a line-by-line port of the official evaluator's result_eq
(test-suite-sql-eval's exec_eval), kept apart from the runtime matcher so the tests compare
services/critic/matching.py against it (same inputs, same verdicts), and `bench_critic` uses it as
the serial reference."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

Row = tuple[Any, ...]


def _unorder_row(row: Row) -> tuple[Any, ...]:
    return tuple(sorted(row, key=lambda x: str(x) + str(type(x))))


def _quick_reject(result1: Sequence[Row], result2: Sequence[Row], ordered: bool) -> bool:
    s1 = [_unorder_row(r) for r in result1]
    s2 = [_unorder_row(r) for r in result2]
    if ordered:
        return s1 != s2
    return set(s1) != set(s2)


def reference_results_match(result1: Sequence[Row], result2: Sequence[Row], ordered: bool) -> bool:
    """A line-by-line port of the official evaluator's result_eq, kept as the benchmark's serial
    reference and as the oracle the tests compare against (same inputs, same verdicts)."""
    if len(result1) == 0 and len(result2) == 0:
        return True
    if len(result1) != len(result2):
        return False
    num_cols = len(result1[0])
    if len(result2[0]) != num_cols:
        return False
    if _quick_reject(result1, result2, ordered):
        return False
    tab1_sets_by_columns = [{row[i] for row in result1} for i in range(num_cols)]
    perm_constraints = [set(range(num_cols)) for _ in range(num_cols)]
    if num_cols > 3:
        rng = random.Random(0)
        for _ in range(20):
            row2 = rng.choice(result2)
            for c1 in range(num_cols):
                for c2 in set(perm_constraints[c1]):
                    if row2[c2] not in tab1_sets_by_columns[c1]:
                        perm_constraints[c1].remove(c2)
    for perm in itertools.product(*perm_constraints):
        if len(perm) != len(set(perm)):
            continue
        permuted = result2 if num_cols == 1 else [tuple(e[i] for i in perm) for e in result2]
        if ordered:
            if list(result1) == list(permuted):
                return True
        elif set(result1) == set(permuted) and Counter(result1) == Counter(permuted):
            return True
    return False
