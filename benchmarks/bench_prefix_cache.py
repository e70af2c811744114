"""Prefix cache (`make bench`): the held-out questions answered through `generate_sql` with the
backend's prefilled-prefix cache off and on, alternated (off, on, off, on) in one process on one
loaded model; seconds per pass, cache hits, and whether the answers are identical to the uncached
ones. Prints figures and writes them as JSON; asserts nothing about time."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from services.generation.backends import ModelSpec, Sampling
from services.generation.logic import Generator
from services.generation.prefix_cache import PREFIX_CACHE_ENTRIES, PrefixCache
from services.generation.requests import QuestionIn
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.packaged_models import DEFAULT_MODEL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/prefix_cache.json"))
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--limit", type=int, default=0, help="held-out questions (0 = all 90)")
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    catalogue = Catalogue.load(ensure_built(args.home / "bundled"))
    dev = catalogue.examples("dev")
    dev = dev[: args.limit] if args.limit else dev
    backend = TransformersBackend(args.home / "models", ModelSpec(args.model), precision=args.precision)
    generator = Generator(catalogue, backend, catalogue.examples("seed"), default_k=2)
    questions = [QuestionIn(e.id, e.db_id, e.question) for e in dev]
    uncached: list[str] = []
    passes = []
    for entries in (0, PREFIX_CACHE_ENTRIES, 0, PREFIX_CACHE_ENTRIES):
        backend._current.prefixes = cache = PrefixCache(entries)
        started = time.perf_counter()
        results, _version = generator.generate_sql(questions, 1, sampling=Sampling(temperature=0.0))
        seconds = time.perf_counter() - started
        sql = [r.sql[0] if r.sql else "" for r in results]
        uncached = uncached or sql
        passes.append(
            {
                "entries": entries,
                "seconds": round(seconds, 1),
                "hits": cache.hits,
                "misses": cache.misses,
                "same_as_uncached": sum(a == b for a, b in zip(sql, uncached, strict=True)),
            }
        )
        print(json.dumps(passes[-1]), flush=True)
    off = sum(p["seconds"] for p in passes if not p["entries"])
    on = sum(p["seconds"] for p in passes if p["entries"])
    figures = {
        "model": backend.info().path,
        "precision": backend.info().precision,
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "questions": len(dev),
        "passes": passes,
        "speedup": round(off / on, 2),
    }
    print(
        f"{Path(figures['model']).name} ({figures['precision']}): prefix cache {figures['speedup']}x "
        f"({off:.0f} s off vs {on:.0f} s on, two passes each)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
