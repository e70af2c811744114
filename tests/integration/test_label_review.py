"""The label review on a real store and a real (tiny, random) model's scores, in process (the
ReviewSql RPC itself: tests/service/test_generation.py): the question whose losing SQL explains it
better by more than the margin loses its label, with the reason; one within the margin keeps it;
questions without a kept or a losing SQL that ran are not reviewed; a second pass (a resumed step)
changes nothing."""

from __future__ import annotations

import pytest

from services.controller.label_review import REASON_PREFIX, review, review_labels
from shared.catalogue import Catalogue, Example
from shared.store import Candidate, Run, Store, Verdict

pytest.importorskip("torch")


def test_review_withholds_only_past_the_margin():
    assert review([-9.0, -4.0], [-5.0, -1.5], 2.0).withheld  # best losing -1.5 beats best kept -4 by 2.5
    assert not review([-9.0, -4.0], [-5.0, -2.0], 2.0).withheld  # by exactly the margin: kept
    assert review([-4.0], [-3.0], 0.5).gap == pytest.approx(1.0)
    assert not review([], [-1.0], 0.0).withheld and not review([-1.0], [], 0.0).withheld


QUESTIONS = {
    "names": (
        "What are the names of the stadiums?",
        ["SELECT stadium_id FROM stadium"],
        ["SELECT name FROM stadium"],
    ),
    "count": (
        "How many singers are there?",
        ["SELECT count(*) FROM singer"],
        ["SELECT count(*) FROM concert"],
    ),
    "erred": ("List the singers.", ["SELECT name FROM singer"], []),  # its loser failed to run
    "unlabelled": ("Which concerts were in 2014?", [], ["SELECT concert_id FROM concert"]),
}


def _store(path) -> Store:
    store = Store.open(f"sqlite:///{path}")
    with store.session() as s:
        s.add(Run(id="r", lineage="x", spec={}))
        s.flush()
        for name, (question, kept, losing) in QUESTIONS.items():
            rows = [(sql, True, "OK") for sql in kept] + [(sql, False, "OK") for sql in losing]
            if name == "erred":
                rows.append(("SELECT nme FROM singer", False, "ERROR"))
            for i, (sql, is_kept, status) in enumerate(rows):
                cid = f"{name}-{i}"
                s.add(
                    Candidate(
                        id=cid,
                        run_id="r",
                        round=1,
                        key=cid,
                        db_id="concert",
                        question=question,
                        sql=sql,
                        source="unlabelled",
                    )
                )
                s.flush()
                s.add(Verdict(candidate_id=cid, kept=is_kept, status=status, reasons=[]))
    return store


def test_a_review_withholds_the_label_a_losing_sql_explains_better(tmp_path, spider_dir):
    from services.generation.backends import ModelSpec
    from services.generation.logic import Generator
    from services.generation.transformers_backend import TransformersBackend
    from testbed.tiny_models import make_tiny_model

    catalogue = Catalogue.load(spider_dir)
    pool = [
        Example(
            "pets", "How many dogs are there?", "SELECT count(*) FROM pet WHERE kind = 'dog'", "seed", "p1"
        )
    ]
    backend = TransformersBackend(tmp_path, ModelSpec(str(make_tiny_model(tmp_path / "tiny"))), device="cpu")
    generator = Generator(catalogue, backend, pool, default_k=1)
    asked: list[str] = []

    def reviewer(db_id, question, sqls):  # the in-process Generator standing in for ReviewSql
        asked.append(question)
        return generator.review(db_id, question, sqls)[0]

    gaps = {}
    for name in ("names", "count"):
        question, kept, losing = QUESTIONS[name]
        scores = reviewer("concert", question, kept + losing)
        gaps[name] = review(scores[: len(kept)], scores[len(kept) :], 0.0).gap
    assert gaps["names"] != gaps["count"]
    worse = max(gaps, key=gaps.get)
    margin = sum(gaps.values()) / 2  # between the two: exactly one label is withheld
    asked.clear()
    store = _store(tmp_path / "store.db")
    try:
        figures = review_labels(store, "r", 1, reviewer, margin)
        assert figures == {"reviewed": 2, "review_withheld": 1}
        assert sorted(asked) == sorted(
            QUESTIONS[n][0] for n in ("names", "count")
        )  # not erred, not unlabelled
        with store.session() as s:
            verdicts = {v.candidate_id: (v.kept, list(v.reasons)) for v in s.query(Verdict)}
        kept_now = {name for name in QUESTIONS if verdicts.get(f"{name}-0", (False,))[0]}
        assert kept_now == {"names", "count", "erred"} - {worse}
        reasons = verdicts[f"{worse}-0"][1]
        assert (
            len(reasons) == 1 and reasons[0].startswith(REASON_PREFIX) and f"margin {margin:g}" in reasons[0]
        )
        assert review_labels(store, "r", 1, lambda *_: None, 0.0)["reviewed"] == 0  # unscored: labels stand
        asked.clear()
        again = review_labels(store, "r", 1, reviewer, margin)  # a resumed step
        assert again == {"reviewed": 1, "review_withheld": 1} and len(asked) == 1
        with store.session() as s:
            assert {v.candidate_id: (v.kept, list(v.reasons)) for v in s.query(Verdict)} == verdicts
    finally:
        store.close()
