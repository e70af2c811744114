"""Hostile SQL through the real critic service (`python -m benchmarks.bench_hostile`): every
input of the sandbox tests' corpus sent to Execute with the service's deadline, and the whole corpus
judged (labelled and self-instruct, test suites on) and evaluated. Prints the worst and median
verdict time per Execute against the deadline, and the statuses; writes JSON. Asserts nothing about
time (the tests hold the bound; this prints the figures docs/benchmarks.md quotes)."""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from shared.grpc_client import check_health, make_channel
from shared.pb import common_pb2, critic_pb2, critic_pb2_grpc
from testbed.databases import make_spider_dir
from testbed.hostile_sql import sendable
from testbed.processes import start_service, stop_service

DEADLINE_MS = 2000  # the critic's default per-query deadline (CriticConfig.timeout_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/hostile.json"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    spider = make_spider_dir(root / "spider")
    folder = spider / "database" / "concert"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    service = start_service("critic", root, dataset=spider)
    try:
        stub = critic_pb2_grpc.CriticServiceStub(make_channel(service.target))
        corpus = sendable()
        times, statuses = {}, Counter()
        for name, sql in corpus:
            started = time.monotonic()
            reply = stub.Execute(critic_pb2.ExecuteRequest(db_id="concert", sql=sql), timeout=60)
            times[name] = time.monotonic() - started
            statuses[critic_pb2.ExecutionStatus.Name(reply.status)] += 1
        gold = "SELECT name FROM singer WHERE age > 40"
        candidates = [
            common_pb2.Candidate(id=f"l{i}", db_id="concert", question="q", sql=sql, gold_sql=gold)
            for i, (_, sql) in enumerate(corpus)
        ] + [
            common_pb2.Candidate(
                id=f"s{i}", db_id="concert", question="q", sql=sql, resampled_sql=[sql, gold]
            )
            for i, (_, sql) in enumerate(corpus)
        ]
        started = time.monotonic()
        verdicts = list(
            stub.JudgeCandidates(
                critic_pb2.JudgeRequest(
                    options=critic_pb2.JudgeOptions(test_suite=True, vote_without_gold=True),
                    candidates=candidates,
                ),
                timeout=1800,
            )
        )
        judge_seconds = time.monotonic() - started
        after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
        worst = max(times, key=times.get)
        figures = {
            "inputs": len(corpus),
            "deadline_s": DEADLINE_MS / 1000,
            "worst_execute_s": round(times[worst], 3),
            "worst_input": worst,
            "median_execute_s": round(statistics.median(times.values()), 4),
            "statuses": dict(statuses),
            "judge_candidates": len(candidates),
            "judge_verdicts": len(verdicts),
            "judge_seconds": round(judge_seconds, 1),
            "folder_unchanged": after == before,
            "serving_after": check_health(make_channel(service.target)),
        }
    finally:
        stop_service(service)
    print(
        f"{figures['inputs']} hostile inputs through Execute: worst {figures['worst_execute_s']:.2f} s "
        f"({figures['worst_input']}) against a {figures['deadline_s']:.0f} s deadline (bound: deadline + 1 s); "
        f"median {figures['median_execute_s'] * 1000:.0f} ms; statuses {figures['statuses']}"
    )
    print(
        f"JudgeCandidates (labelled + self-instruct, test suites on): {figures['judge_verdicts']} verdicts "
        f"for {figures['judge_candidates']} candidates in {figures['judge_seconds']} s; folder unchanged: "
        f"{figures['folder_unchanged']}; health after: {figures['serving_after']}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
