"""Execution match (EX) with the official Spider semantics (test-suite-sql-eval's exec_eval).

The rules, as the official `result_eq` applies them:
- both results empty -> match; otherwise row counts and column counts must agree;
- columns are matched up to a permutation; rows as a bag (multiset), or as a sequence
  when the gold query has ORDER BY.
Where the official code breaks, this does better without changing any verdict:
- the column-permutation search is pruned by column value signatures (the multiset of a
  column's values must be equal for two columns to correspond), and columns with identical
  contents are interchangeable, so wide results do not blow up factorially;
- the official evaluator samples 20 random rows to prune for >3 columns; signatures are exact.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

Row = tuple[Any, ...]
MAX_PERMUTATIONS = 100_000


def order_matters(gold_sql: str) -> bool:
    """The official rule: order is checked only when the gold SQL text contains 'order by'."""
    return "order by" in " ".join(gold_sql.lower().split())


def _key(value: Any) -> Hashable:
    # Python equality is what the official evaluator uses (1 == 1.0, 'a' != b'a').
    return value


def _unorder_row(row: Row) -> tuple[Any, ...]:
    return tuple(sorted(row, key=lambda x: str(x) + str(type(x))))


def _quick_reject(result1: Sequence[Row], result2: Sequence[Row], ordered: bool) -> bool:
    """True when the rows, each taken as a bag of values, already differ (official quick_rej)."""
    s1 = [_unorder_row(r) for r in result1]
    s2 = [_unorder_row(r) for r in result2]
    if ordered:
        return s1 != s2
    return set(s1) != set(s2)


def _column_permutations(
    result1: Sequence[Row], result2: Sequence[Row], ordered: bool
) -> Iterator[tuple[int, ...]]:
    """Candidate maps perm[i] = column of result2 that plays column i of result1."""
    num_cols = len(result1[0])
    cols1 = [tuple(r[i] for r in result1) for i in range(num_cols)]
    cols2 = [tuple(r[i] for r in result2) for i in range(num_cols)]

    def signature(col: tuple[Any, ...]) -> Any:
        return col if ordered else frozenset(Counter(col).items())

    sig2: dict[Any, list[int]] = {}
    for j, col in enumerate(cols2):
        sig2.setdefault(signature(col), []).append(j)
    choices: list[list[int]] = []
    for col in cols1:
        options = sig2.get(signature(col))
        if not options:
            return
        choices.append(options)
    # Columns of result2 with identical contents are interchangeable: try one assignment of them.
    content_groups: dict[tuple[Any, ...], list[int]] = {}
    for j, col in enumerate(cols2):
        content_groups.setdefault(col, []).append(j)
    representative = {j: group[0] for group in content_groups.values() for j in group}
    reduced = [sorted({representative[j] for j in options}) for options in choices]
    budget = MAX_PERMUTATIONS
    for combo in itertools.product(*reduced):
        budget -= 1
        if budget < 0:
            return
        # Expand representatives back to distinct columns (identical columns: any order works).
        pools = {rep: list(content_groups[cols2[rep]]) for rep in set(combo)}
        perm = []
        valid = True
        for rep in combo:
            if not pools[rep]:
                valid = False
                break
            perm.append(pools[rep].pop(0))
        if valid:
            yield tuple(perm)


def results_match(result1: Sequence[Row], result2: Sequence[Row], ordered: bool) -> bool:
    """Official result_eq(result1=gold, result2=prediction, order_matters)."""
    if len(result1) == 0 and len(result2) == 0:
        return True
    if len(result1) != len(result2):
        return False
    num_cols = len(result1[0])
    if len(result2[0]) != num_cols:
        return False
    # Fast path: the identity permutation is always among the official candidates.
    if (list(result1) == list(result2)) if ordered else (Counter(result1) == Counter(result2)):
        return True
    if _quick_reject(result1, result2, ordered):
        return False
    for perm in _column_permutations(result1, result2, ordered):
        permuted = result2 if num_cols == 1 else [tuple(row[i] for i in perm) for row in result2]
        if ordered:
            if list(result1) == list(permuted):
                return True
        elif Counter(result1) == Counter(permuted):
            return True
    return False


def set_results_match(result1: Sequence[Row], result2: Sequence[Row]) -> bool:
    """BIRD's execution match: the rows as sets - order and duplicates ignored, column order kept
    (its evaluator compares `set(predicted) == set(gold)`)."""
    return set(map(tuple, result1)) == set(map(tuple, result2))
