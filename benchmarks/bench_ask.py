"""`ask` latency while the critic judges (`make bench-ask`): the real four services (generation's
model server is the scripted TGI fake, so the figure is the controller + critic path a person waits
on), 8 clients each judging a round's worth of candidates at once - one in ten a query that runs into
the sandbox's deadline - and one question asked every half second meanwhile. Run with the critic's
interactive lane off (`critic.interactive_workers: 0`, Execute and votes queue behind judging, as
before the lane existed) and on (the default, 1). Prints latency percentiles; asserts nothing.

    python -m benchmarks.bench_ask [--clients 8] [--candidates 300] [--out .bench/ask.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import grpc

from shared.catalogue import Catalogue
from shared.grpc_client import make_channel
from shared.pb import common_pb2, controller_pb2, controller_pb2_grpc, critic_pb2, critic_pb2_grpc
from testbed.scripted_stack import SERVICES, make_stack
from testbed.tiny_models import make_tiny_model

DEADLINE_SECONDS = 30.0  # what a person would wait, as the load test used
HEAVY = (  # counts far past any deadline: runs until the sandbox stops it
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM (SELECT x FROM c LIMIT 10000000000)"
)


def _judging_load(target: str, catalogue: Catalogue, clients: int, candidates: int, done: list) -> list:
    """Threads, each judging `candidates` candidates in one call; appends its seconds to done."""
    examples = catalogue.examples("train")

    def one(client: int) -> None:
        stub = critic_pb2_grpc.CriticServiceStub(make_channel(target))
        batch = []
        for i in range(candidates):
            e = examples[(client * candidates + i) % len(examples)]
            sql = HEAVY if i % 10 == 0 else e.query
            batch.append(
                common_pb2.Candidate(
                    id=f"{client}-{i}", db_id=e.db_id, question=e.question, sql=sql, gold_sql=e.query
                )
            )
        started = time.monotonic()
        verdicts = list(stub.JudgeCandidates(critic_pb2.JudgeRequest(candidates=batch), timeout=3600))
        assert len(verdicts) == candidates
        done.append(time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    return threads


def _ask_until(stub, example, stop: threading.Event, latencies: list, failures: list, samples: int) -> None:
    request = controller_pb2.AskRequest(question=example.question, db_id=example.db_id, samples=samples)
    while not stop.is_set():
        started = time.monotonic()
        try:
            answer = stub.Ask(request, timeout=DEADLINE_SECONDS)
            assert answer.status == critic_pb2.EXECUTION_STATUS_OK, answer.error
            latencies.append(time.monotonic() - started)
        except grpc.RpcError as exc:
            failures.append(exc.code().name)
        time.sleep(0.5)


def _summary(latencies: list[float], failures: list[str]) -> dict:
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")  # noqa: E731
    return {
        "asks": len(latencies) + len(failures),
        "p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "p95_s": round(pick(0.95), 3),
        "max_s": round(ordered[-1], 3) if ordered else None,
        f"past_{DEADLINE_SECONDS:.0f}s_deadline": len(failures),
    }


def measure(lanes: int, clients: int, candidates: int, samples: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    stack = make_stack(root, make_tiny_model(root / "tiny"))
    env = {"SQLDISTILL_CRITIC__INTERACTIVE_WORKERS": str(lanes), "SQLDISTILL_CRITIC__TIMEOUT_MS": "1000"}
    for name in SERVICES:
        stack.start(name, extra_env=env)
    try:
        catalogue = Catalogue.load(stack.dataset)
        example = next(e for e in catalogue.examples("train") if "ORDER BY" not in e.query.upper())
        stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
        idle: list[float] = []
        idle_failures: list[str] = []
        stop = threading.Event()
        asker = threading.Thread(target=_ask_until, args=(stub, example, stop, idle, idle_failures, samples))
        asker.start()
        time.sleep(5)
        stop.set()
        asker.join()
        loaded: list[float] = []
        failures: list[str] = []
        done: list[float] = []
        started = time.monotonic()
        threads = _judging_load(stack.target("critic"), catalogue, clients, candidates, done)
        stop = threading.Event()
        asker = threading.Thread(target=_ask_until, args=(stub, example, stop, loaded, failures, samples))
        asker.start()
        for t in threads:
            t.join()
        stop.set()
        asker.join()
        return {
            "interactive_workers": lanes,
            "idle": _summary(idle, idle_failures),
            "while_judging": _summary(loaded, failures),
            "judging_seconds": round(time.monotonic() - started, 1),
            "verdicts": clients * candidates,
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--samples", type=int, default=4, help="samples per ask (they vote)")
    parser.add_argument("--out", type=Path, default=Path(".bench/ask.json"))
    args = parser.parse_args()
    results = [measure(lanes, args.clients, args.candidates, args.samples) for lanes in (0, 1)]
    print(
        f"ask latency (samples {args.samples}), {args.clients} clients judging {args.candidates} candidates each"
    )
    print(f"{'lane, when':<34}{'asks':>6}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'>30 s':>7}   judging")
    for r in results:
        lane = (
            "shared (0 workers)"
            if r["interactive_workers"] == 0
            else f"own ({r['interactive_workers']} worker)"
        )
        for when in ("idle", "while_judging"):
            s = r[when]
            print(
                f"{lane + ', ' + when.replace('_', ' '):<34}{s['asks']:>6}{s['p50_s']:>9}{s['p95_s']:>9}"
                f"{s['max_s']:>9}{s[f'past_{DEADLINE_SECONDS:.0f}s_deadline']:>7}"
                + (
                    f"   {r['verdicts']} verdicts in {r['judging_seconds']} s"
                    if when == "while_judging"
                    else ""
                )
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
