"""Start the four real services on loopback ports for controller tests, sharing one home and store.

Generation runs on the `tgi` backend against the recorded-protocol fake (tests/fake_tgi.py), whose
responder scripts how good each model version is, so a run's outcome is known in advance; the
critic, trainer (a real tiny model is fine-tuned) and controller are the real services."""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

from cli.local_stack import spawn_service, wait_serving
from shared.bundled.build import build
from shared.catalogue import Catalogue
from shared.prompts import clean_sql
from testbed.fake_tgi import FakeTgiServer
from testbed.processes import RunningService, free_port, stop_service

SERVICES = ("critic", "generation", "trainer", "controller")


def scripted_responder(catalogue: Catalogue):
    """Completions by prompt and adapter: the base model answers train questions right and held-out
    questions wrong; any round-1 adapter answers the first half of held-out questions right; later
    adapters are no better than round 1. Self-instruct prompts get a count query on a real table. A
    hot sampler (temperature 1 or more) strays on clinic's train questions two samples in three
    (seed % 3 != 2) to a count of a clinic table: the vote labels them wrong, 2 to 1, and a review
    (scripted_scorer: the script's wrong answers explain no question) withholds those labels."""
    gold = {e.question: e.query for split in ("train", "seed", "dev") for e in catalogue.examples(split)}
    straying = {e.question for e in catalogue.examples("train") if e.db_id == "clinic"}
    stray = f" {stray_sql(catalogue)};"
    dev = sorted(e.question for e in catalogue.examples("dev"))
    good_dev = set(dev[: len(dev) // 2])

    def respond(prompt: str, parameters: dict) -> str:
        adapter = parameters.get("adapter_id") or ""
        if prompt.rstrip().endswith("-- Question:"):
            block = prompt.rsplit("-- Database:", 1)[1]
            table = re.search(r"CREATE TABLE (\w+)", block).group(1)
            return f" How many rows does the {table} table have?\n-- SQL: SELECT count(*) FROM {table};"
        question = prompt.rsplit("-- Question:", 1)[1].split("\n", 1)[0].strip()
        match = re.fullmatch(r"How many rows does the (\w+) table have\?", question)
        if match:
            return f" SELECT count(*) FROM {match.group(1)};"
        match = re.fullmatch(r"Please drop the (\w+) table\.", question)  # hostile answers
        if match:
            return f" DROP TABLE {match.group(1)};"
        if question == "Please load an extension.":
            return " SELECT load_extension('/tmp/evil.so');"
        hot = parameters.get("do_sample") and (parameters.get("temperature") or 0) >= 1.0
        if hot and question in straying and (parameters.get("seed") or 0) % 3 != 2:
            return stray
        if question in good_dev:
            return f" {gold[question]};" if adapter else " SELECT 1;"
        if question in gold and question not in set(dev):
            return f" {gold[question]};"
        return " SELECT 1;"

    return respond


def stray_sql(catalogue: Catalogue) -> str:
    """What the hot sampler writes instead of a clinic question's SQL: a count of a clinic table."""
    return f"SELECT count(*) FROM {catalogue.schema('clinic').tables[0].name}"


def scripted_scorer(catalogue: Catalogue):
    """The review's log-probabilities: a question reads as unlikely after the script's wrong answers
    (`SELECT 1`, the stray count: three nats a piece) and as likely after any other SQL (one nat)."""
    wrong = {"SELECT 1", stray_sql(catalogue)}

    def score(before: str, piece: str) -> float:
        sql = before.rsplit("-- SQL:", 1)[-1].split("\n-- Question:", 1)[0]
        return -3.0 if clean_sql(sql) in wrong else -1.0

    return score


@dataclass
class Stack:
    home: Path
    dataset: Path
    env: dict[str, str]
    fake: FakeTgiServer
    services: dict[str, RunningService] = field(default_factory=dict)

    def target(self, name: str) -> str:
        return f"127.0.0.1:{self.env[f'SQLDISTILL_SERVICES__{name.upper()}__PORT']}"

    @property
    def store_url(self) -> str:
        return self.env["SQLDISTILL_STORE_URL"]

    def start(self, name: str, extra_env: dict[str, str] | None = None, wait: bool = True) -> RunningService:
        env = {**self.env, **(extra_env or {})}
        service = spawn_service(name, self.target(name), env, self.home.parent / f"{name}.log")
        self.services[name] = service
        if wait:
            wait_serving(service, 120)
        return service

    def kill(self, name: str) -> None:
        service = self.services[name]
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGKILL)
            service.process.wait()

    def stop(self) -> None:
        for name in reversed(SERVICES):
            if name in self.services:
                stop_service(self.services[name])
        self.fake.close()


def make_stack(root: Path, tiny_base: Path, store_url: str = "") -> Stack:
    """The four services on loopback over a fresh bundled dataset; the store on a SQLite file
    under home unless store_url names another (a PostgreSQL database)."""
    home = root / "home"
    dataset = build(root / "bundled")
    catalogue = Catalogue.load(dataset)
    fake = FakeTgiServer(responder=scripted_responder(catalogue), scorer=scripted_scorer(catalogue))
    env = dict(os.environ)
    env.update(
        {
            "SQLDISTILL_HOME": str(home),
            "SQLDISTILL_DATASET": str(dataset),
            "SQLDISTILL_STORE_URL": store_url or f"sqlite:///{home / 'store.db'}",
            "SQLDISTILL_CRITIC__WORKERS": "2",
            "SQLDISTILL_GENERATION__BACKEND": "tgi",
            "SQLDISTILL_GENERATION__TGI_URL": fake.url,
            "SQLDISTILL_GENERATION__MODEL": str(tiny_base),
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in SERVICES:
        env[f"SQLDISTILL_SERVICES__{name.upper()}__PORT"] = str(free_port())
        env[f"SQLDISTILL_SERVICES__{name.upper()}__METRICS_PORT"] = "0"
    return Stack(home, dataset, env, fake)
