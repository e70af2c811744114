"""Test suites for any database (Zhong et al. 2020): the original plus fuzzed variants (fuzzing.py).

Candidate variants
are kept greedily by how many (gold, neighbour) pairs they tell apart that the suite so far does
not. Suites are cached on disk under a key of (database content hash, seed, K), written
atomically, and rebuilt identically from the seed.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from services.critic.fuzzing import content_hash, file_stamp, fuzz_database, hash_seed, literal_hints
from shared.catalogue import Catalogue

log = logging.getLogger("sqldistill.critic.testsuite")

# (gold, neighbour, db_path) -> True when the two queries' results differ on that database.
Distinguisher = Callable[[str, str, str], bool]


def select_variants(
    original: str,
    candidates: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    distinguishes: Distinguisher,
    k: int,
) -> tuple[list[str], dict[str, int]]:
    """Greedy choice of up to k candidate databases that tell apart the most (gold, neighbour) pairs
    the original does not. Returns the chosen paths and coverage figures."""
    undistinguished = [p for p in pairs if not distinguishes(p[0], p[1], original)]
    covers = {
        c: {i for i, (g, n) in enumerate(undistinguished) if distinguishes(g, n, c)} for c in candidates
    }
    chosen: list[str] = []
    covered: set[int] = set()
    while len(chosen) < k:
        best = max(
            (c for c in candidates if c not in chosen), key=lambda c: len(covers[c] - covered), default=None
        )
        if best is None or not (covers[best] - covered):
            break
        chosen.append(best)
        covered |= covers[best]
    # Fill up to k with the remaining variants: more databases never hurt a TS check.
    for c in candidates:
        if len(chosen) >= k:
            break
        if c not in chosen:
            chosen.append(c)
    figures = {
        "pairs": len(pairs),
        "undistinguished_by_original": len(undistinguished),
        "distinguished_by_suite": len(covered),
    }
    return chosen, figures


class SuiteStore:
    """Builds each database's suite once, on first use, and keeps it on disk."""

    def __init__(
        self,
        catalogue: Catalogue,
        cache_dir: Path,
        k: int = 10,
        seed: int = 0,
        distinguishes: Distinguisher | None = None,
        candidates_per_variant: int = 3,
        gold_queries: dict[str, list[str]] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.cache_dir = Path(cache_dir)
        self.k = k
        self.seed = seed
        self.distinguishes = distinguishes
        self.candidates_per_variant = candidates_per_variant
        self.extra_gold = gold_queries or {}  # e.g. the gold side of a prediction set being scored
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._paths: dict[tuple[str, tuple[int, int]], list[Path]] = {}  # (db_id, its file's stamp)

    def _folder(self, db_id: str) -> Path:
        digest = content_hash(self.catalogue.path(db_id))[:16]
        return self.cache_dir / f"{db_id}-{digest}-seed{self.seed}-k{self.k}"

    def variants(self, db_id: str) -> list[Path]:
        """The database's suite, built for the file it holds now: a refreshed snapshot gets its own."""
        key = (db_id, file_stamp(self.catalogue.path(db_id)))
        if key in self._paths:
            return self._paths[key]
        with self._guard:
            lock = self._locks.setdefault(db_id, threading.Lock())
        with lock:
            if key not in self._paths:
                self._paths[key] = self._load_or_build(db_id)
        return self._paths[key]

    def manifest(self, db_id: str) -> dict[str, Any]:
        self.variants(db_id)
        return json.loads((self._folder(db_id) / "manifest.json").read_text())

    def _gold_queries(self, db_id: str) -> list[str]:
        queries = list(self.extra_gold.get(db_id, ()))
        for split in self.catalogue.splits:
            queries += [e.query for e in self.catalogue.examples(split) if e.db_id == db_id]
        return sorted(set(queries))

    def _load_or_build(self, db_id: str) -> list[Path]:
        folder = self._folder(db_id)
        manifest = folder / "manifest.json"
        if manifest.is_file():
            return [folder / name for name in json.loads(manifest.read_text())["variants"]]
        from services.critic.neighbours import neighbours

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{db_id}-", dir=self.cache_dir))
        try:
            source = self.catalogue.path(db_id)
            n_candidates = self.k * self.candidates_per_variant if self.distinguishes else self.k
            hints = literal_hints(self._gold_queries(db_id))
            candidates = []
            for i in range(n_candidates):
                path = tmp / f"candidate_{i:03d}.sqlite"
                fuzz_database(source, path, seed=hash_seed(self.seed, db_id, i), hints=hints)
                candidates.append(str(path))
            figures: dict[str, int] = {}
            if self.distinguishes:
                schema = self.catalogue.schema(db_id)
                pairs = [(g, n) for g in self._gold_queries(db_id) for n in neighbours(g, schema)]
                chosen, figures = select_variants(str(source), candidates, pairs, self.distinguishes, self.k)
            else:
                chosen = candidates[: self.k]
            names = []
            for index, path in enumerate(chosen):
                name = f"variant_{index:02d}.sqlite"
                Path(path).rename(tmp / name)
                names.append(name)
            for leftover in tmp.glob("candidate_*.sqlite"):
                leftover.unlink()
            (tmp / "manifest.json").write_text(
                json.dumps(
                    {"db_id": db_id, "seed": self.seed, "k": self.k, "variants": names, "figures": figures},
                    indent=2,
                )
            )
            try:
                tmp.rename(folder)
            except OSError:  # another process built it first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("test suite for %s: %d variants in %s", db_id, self.k, folder)
        return [folder / name for name in json.loads((folder / "manifest.json").read_text())["variants"]]
