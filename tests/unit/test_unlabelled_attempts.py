"""Which unlabelled questions GENERATE asks again: not those an earlier round labelled, and not those
asked in max_attempts rounds without reaching a majority (a real SQLite store; no services)."""

from __future__ import annotations

import pytest

from services.controller.settings import RunSettings
from services.controller.steps.base import Context
from services.controller.steps.generate import Generate
from shared.bundled.build import build
from shared.catalogue import Catalogue
from shared.store import Candidate, Run, Store, Verdict


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Catalogue:
    return Catalogue.load(build(tmp_path_factory.mktemp("bundled") / "bundled"))


def _asked(s, db_id: str, question: str, round_: int, kept: bool | None) -> None:
    cid = f"{question[:20]}-{round_}"
    s.add(
        Candidate(
            id=cid,
            run_id="r",
            round=round_,
            key=cid,
            db_id=db_id,
            question=question,
            sql="SELECT 1",
            source="unlabelled",
        )
    )
    if kept is not None:
        s.flush()
        s.add(Verdict(candidate_id=cid, kept=kept, status="OK"))


@pytest.mark.parametrize(
    ("max_attempts", "asked_again"), [(2, {"once"}), (3, {"once", "twice"}), (0, {"once", "twice"})]
)
def test_a_question_without_a_majority_is_asked_until_max_attempts(
    tmp_path, catalogue, max_attempts, asked_again
):
    db_id = "library"
    questions = sorted({e.question for e in catalogue.examples("train") if e.db_id == db_id})
    twice, once, labelled = questions[:3]
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.session() as s:
            s.add(Run(id="r", lineage="x", spec={}))
            s.flush()
            _asked(s, db_id, twice, 1, kept=False)
            _asked(s, db_id, twice, 2, kept=False)
            _asked(s, db_id, once, 2, kept=False)
            _asked(s, db_id, labelled, 1, kept=True)
        settings = RunSettings(mode="unlabelled", db_ids=[db_id], max_attempts=max_attempts)
        step = Generate(Context(store, None, catalogue, tmp_path, None))
        chosen = {
            e.question
            for e in step._unlabelled_questions(
                "r", 3, settings, seed_base=0, pool=step._train_examples(settings)
            )
        }
    finally:
        store.close()
    names = {"twice": twice, "once": once}
    assert {name for name, q in names.items() if q in chosen} == asked_again
    assert labelled not in chosen and set(questions[3:]) <= chosen  # never asked: asked now
