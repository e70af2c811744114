"""The real critic service over gRPC on loopback: execute, judge, evaluate, describe. One module,
past 300 lines, because every test talks to the one critic service the module starts."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import grpc
import pytest

from shared.grpc_client import check_health, make_channel
from shared.limits import MAX_INTERACTIVE_VOTE_ITEMS, MAX_SAMPLES
from shared.pb import common_pb2, critic_pb2, critic_pb2_grpc
from shared.pbconvert import from_result_set
from testbed.hostile_sql import HOSTILE, sendable


@pytest.fixture(scope="module")
def stub(critic_service):
    return critic_pb2_grpc.CriticServiceStub(make_channel(critic_service.target))


def test_execute_returns_typed_rows(stub):
    reply = stub.Execute(
        critic_pb2.ExecuteRequest(
            db_id="concert", sql="SELECT name, age, NULL, 1.5 FROM singer ORDER BY singer_id LIMIT 2"
        ),
        timeout=10,
    )
    assert reply.status == critic_pb2.EXECUTION_STATUS_OK
    assert list(reply.result.columns) == ["name", "age", "NULL", "1.5"]
    rows = from_result_set(reply.result)
    assert (
        rows[0][0] == "Singer 1" and isinstance(rows[0][1], int) and rows[0][2] is None and rows[0][3] == 1.5
    )
    capped = stub.Execute(
        critic_pb2.ExecuteRequest(db_id="concert", sql="SELECT * FROM concert", max_rows=3), timeout=10
    )
    assert capped.result.truncated and len(capped.result.rows) == 3


def _candidate(cid, sql, gold="", question="q", db_id="concert", resampled=()):
    return common_pb2.Candidate(
        id=cid, db_id=db_id, question=question, sql=sql, gold_sql=gold, resampled_sql=list(resampled)
    )


def test_judge_streams_one_verdict_per_candidate_with_reasons(stub):
    gold = "SELECT name FROM singer WHERE age > 40"
    candidates = [
        _candidate("right", "select NAME from singer where age > 40", gold),
        _candidate("wrong", "SELECT name FROM singer WHERE age >= 60", gold),
        _candidate("broken", "SELEC name FROM", gold),
        _candidate("write", "DELETE FROM singer", gold),
        _candidate("empty", "SELECT name FROM singer WHERE age > 500"),
        _candidate("all-null", "SELECT NULL FROM singer"),
        _candidate("whole-table", "SELECT * FROM singer", question="Show singers"),
        _candidate("self-ok", "SELECT count(*) FROM singer", question="How many singers?"),
        _candidate("dup", "SELECT COUNT(*) FROM singer", question="Count the singers"),
        _candidate(
            "ungrouped-order",
            "SELECT country, count(*) FROM singer GROUP BY country ORDER BY age DESC",
            question="How many singers per country?",
        ),
        _candidate(
            "slow", "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM r) SELECT count(*) FROM r"
        ),
    ]
    options = critic_pb2.JudgeOptions(test_suite=True, dedupe=True)
    verdicts = list(
        stub.JudgeCandidates(critic_pb2.JudgeRequest(options=options, candidates=candidates), timeout=120)
    )
    by_id = {v.candidate_id: v for v in verdicts}
    assert [v.candidate_id for v in verdicts] == [c.id for c in candidates]
    assert by_id["right"].kept and by_id["right"].execution_match and by_id["right"].test_suite_match
    assert (
        by_id["right"].hardness == "easy"
        and by_id["right"].canonical_sql == "select name from singer where age > ?"
    )
    assert not by_id["wrong"].kept and "differs from gold" in " ".join(by_id["wrong"].reasons)
    assert not by_id["broken"].parses and "does not parse" in by_id["broken"].reasons[0]
    assert not by_id["write"].kept and "not a single SELECT" in by_id["write"].reasons[0]
    assert by_id["empty"].reasons == ["empty result"]
    assert by_id["all-null"].reasons == ["result is all NULL"]
    assert "whole table" in by_id["whole-table"].reasons[0]
    assert by_id["self-ok"].kept and not by_id["self-ok"].has_gold
    assert not by_id["dup"].kept and "duplicate" in by_id["dup"].reasons[0]
    assert by_id["ungrouped-order"].executes and "orders groups by age" in by_id["ungrouped-order"].reasons[0]
    assert by_id["slow"].status == critic_pb2.EXECUTION_STATUS_TIMEOUT and not by_id["slow"].kept


def test_judge_keeps_a_self_instruct_pair_when_its_sql_is_in_the_majority_of_the_votes(stub):
    sql = "SELECT name FROM singer WHERE age > 40"
    agreeing = [
        "SELECT name FROM singer WHERE 40 < age",
        "SELECT name FROM singer WHERE age >= 41",
        "SELECT name FROM singer",
    ]
    disagreeing = [
        "SELECT name FROM singer",
        "SELECT country FROM singer WHERE age > 40",
        "SELECT name FROM singer WHERE age > 40",
    ]
    options = critic_pb2.JudgeOptions(vote_without_gold=True)
    verdicts = list(
        stub.JudgeCandidates(
            critic_pb2.JudgeRequest(
                options=options,
                candidates=[
                    _candidate("agree", sql, resampled=agreeing),
                    _candidate("disagree", sql.replace("40", "41"), resampled=disagreeing),
                    _candidate("alone", sql),
                ],
            ),
            timeout=60,
        )
    )
    agree, disagree, alone = verdicts
    # The pair's own SQL is one vote: it and two re-answers (integer ages) return the same names.
    assert agree.kept and agree.consistency == pytest.approx(3 / 4)
    assert not disagree.kept and disagree.consistency <= 0.5 and disagree.reasons
    assert not alone.kept and "at least 2" in alone.reasons[0]  # one vote is no majority


def test_judge_refuses_a_vote_won_by_a_limit_over_rows_that_all_sort_alike(stub):
    """Grouped by a unique key, every singer has one row: "the singer with the most" is whichever
    SQLite returns first, and every sample returns the same one. A real ranking is kept."""
    arbitrary = "SELECT name FROM singer GROUP BY singer_id ORDER BY count(*) DESC LIMIT 1"
    ranked = (
        "SELECT T1.name FROM singer AS T1 JOIN singer_in_concert AS T2 ON T1.singer_id = T2.singer_id "
        "GROUP BY T1.singer_id ORDER BY count(*) DESC LIMIT 1"
    )
    by_alias = "SELECT country, count(*) AS n FROM singer GROUP BY country ORDER BY n DESC LIMIT 1"
    request = critic_pb2.JudgeRequest(
        options=critic_pb2.JudgeOptions(vote_without_gold=True),
        candidates=[
            _candidate(cid, sql, resampled=[sql, sql])
            for cid, sql in [("arbitrary", arbitrary), ("ranked", ranked), ("by-alias", by_alias)]
        ],
    )
    verdicts = {v.candidate_id: v for v in stub.JudgeCandidates(request, timeout=60)}
    assert not verdicts["arbitrary"].kept and "every row shares" in verdicts["arbitrary"].reasons[0]
    assert verdicts["ranked"].kept, verdicts["ranked"].reasons
    assert verdicts["by-alias"].kept, verdicts["by-alias"].reasons


def test_judge_rejects_bad_requests(stub):
    with pytest.raises(grpc.RpcError) as info:
        list(
            stub.JudgeCandidates(critic_pb2.JudgeRequest(candidates=[_candidate("", "SELECT 1")]), timeout=10)
        )
    assert (
        info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        and "unique, non-empty id" in info.value.details()
    )
    with pytest.raises(grpc.RpcError) as info:
        list(
            stub.JudgeCandidates(
                critic_pb2.JudgeRequest(candidates=[_candidate("a", "SELECT 1", db_id="nope")]), timeout=10
            )
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_evaluate_scores_ex_and_ts_by_hardness(stub):
    predictions = [
        critic_pb2.Prediction(
            id="1",
            db_id="concert",
            gold_sql="SELECT count(*) FROM singer",
            predicted_sql="SELECT count(singer_id) FROM singer",
        ),
        critic_pb2.Prediction(
            id="2",
            db_id="concert",
            gold_sql="SELECT name, age FROM singer ORDER BY age DESC",
            predicted_sql="SELECT name, age FROM singer ORDER BY age",
        ),
        critic_pb2.Prediction(
            id="3",
            db_id="pets",
            gold_sql="SELECT count(*) FROM pet WHERE kind = 'dog'",
            predicted_sql="SELECT count(*) FROM pet WHERE kind = 'dog'",
        ),
        critic_pb2.Prediction(
            id="4",
            db_id="pets",
            gold_sql="SELECT count(*) FROM pet WHERE kind = 'dog'",
            predicted_sql="DROP TABLE pet",
        ),
    ]
    reply = stub.Evaluate(critic_pb2.EvaluateRequest(predictions=predictions, test_suite=True), timeout=120)
    assert reply.accuracy.total == 4
    assert reply.accuracy.execution == pytest.approx(0.5)
    assert (
        reply.accuracy.by_hardness["easy"].total == 3
        and reply.accuracy.by_hardness["medium"].execution == 0.0
    )
    by_id = {q.id: q for q in reply.queries}
    assert by_id["1"].execution_match and by_id["3"].test_suite_match and not by_id["2"].execution_match
    assert "DENIED" in by_id["4"].error
    with pytest.raises(grpc.RpcError) as info:
        stub.Evaluate(critic_pb2.EvaluateRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_describe_databases(stub):
    reply = stub.DescribeDatabases(critic_pb2.DescribeDatabasesRequest(), timeout=10)
    assert [d.db_id for d in reply.databases] == ["concert", "pets"]
    concert = reply.databases[0]
    link = next(t for t in concert.tables if t.name == "singer_in_concert")
    assert {(f.column, f.ref_table) for f in link.foreign_keys} == {
        ("concert_id", "concert"),
        ("singer_id", "singer"),
    }
    assert "CREATE TABLE singer (" in concert.schema_text
    with pytest.raises(grpc.RpcError) as info:
        stub.DescribeDatabases(critic_pb2.DescribeDatabasesRequest(db_ids=["nope"]), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_eval_cli_on_spider_files(spider_dir, tmp_path):
    gold = tmp_path / "gold.sql"
    gold.write_text(
        "SELECT count(*) FROM singer\tconcert\nSELECT count(*) FROM pet WHERE kind = 'dog'\tpets\n"
    )
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT count(*) FROM singer\nSELECT count(*) FROM pet\n")
    out = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "eval",
            "--gold",
            str(gold),
            "--pred",
            str(pred),
            "--db-dir",
            str(spider_dir / "database"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["accuracy"]["execution"] == 0.5
    assert [q["execution_match"] for q in report["queries"]] == [True, False]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "eval",
            "--gold",
            str(gold),
            "--pred",
            str(gold.parent / "missing.sql"),
            "--db-dir",
            str(spider_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "missing.sql" in bad.stdout


def _folder_state(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# The hostile corpus as the service can receive it: protobuf strings are UTF-8, so lone surrogates
# travel as raw bytes in test_scaffold (answered INVALID_ARGUMENT); NUL characters do travel.
SENDABLE = sendable()
DEADLINE_S = 2.0  # the critic's configured per-query deadline (CriticConfig.timeout_ms)
SLACK_S = 3.0  # beyond it, per query: bounded by the deadline, not the query, on a loaded machine
JUDGE_BUDGET_S = 120.0  # the whole judged stream (this whole test takes about 35 s)


def test_hostile_corpus_through_execute_judge_and_evaluate(stub, spider_dir, critic_service):
    """Every hostile query gets one verdict from each RPC, within deadline + 3 s per query, the
    service stays SERVING and the database folder stays byte-identical with no new file."""
    folder = spider_dir / "database" / "concert"
    before = _folder_state(folder)
    assert any("\x00" in sql for _, sql in SENDABLE)
    worst = 0.0
    for name, sql in SENDABLE:
        started = time.monotonic()
        reply = stub.Execute(critic_pb2.ExecuteRequest(db_id="concert", sql=sql), timeout=30)
        worst = max(worst, time.monotonic() - started)
        assert reply.status != critic_pb2.EXECUTION_STATUS_UNSPECIFIED, name
    assert worst < DEADLINE_S + SLACK_S, worst

    gold = "SELECT name FROM singer WHERE age > 40"
    candidates = [_candidate(f"l-{name}", sql, gold) for name, sql in SENDABLE] + [
        _candidate(f"s-{name}", sql, resampled=[sql, gold]) for name, sql in SENDABLE
    ]
    options = critic_pb2.JudgeOptions(test_suite=True, vote_without_gold=True)
    started = time.monotonic()
    verdicts = list(
        stub.JudgeCandidates(critic_pb2.JudgeRequest(options=options, candidates=candidates), timeout=600)
    )
    judge_seconds = time.monotonic() - started
    assert [v.candidate_id for v in verdicts] == [c.id for c in candidates]
    allowed = {name: statuses for name, _, statuses in HOSTILE}  # what Execute may answer for each
    for v in verdicts:
        name = v.candidate_id[2:]
        assert v.kept == (not v.reasons), v  # rejected exactly when there is a reason to
        # no hostile query returns the gold rows, so no labelled candidate is kept
        assert not v.candidate_id.startswith("l-") or not v.kept, v
        # what is kept ran to completion and its result won a strict majority of its samples
        assert not v.kept or (v.executes and v.status == critic_pb2.EXECUTION_STATUS_OK), v
        assert not v.kept or v.consistency > 0.5, v
        if allowed[name] == {"DENIED"}:  # writes, DDL, several statements...: refused, never run
            assert not v.kept and not v.executes, v
            assert v.reasons[0].startswith(
                ("not a single SELECT query", "does not parse", "does not execute (DENIED)")
            ), v
    deep = {v.candidate_id: v for v in verdicts}["l-many-distinct-unions"]
    assert not deep.kept and deep.reasons
    # Each query (and each suite re-run) is bounded: the whole stream ends within a fixed budget,
    # where its never-ending queries alone would run until the test's timeout (300 s).
    assert judge_seconds < JUDGE_BUDGET_S, judge_seconds

    predictions = (
        [
            critic_pb2.Prediction(id=name, db_id="concert", gold_sql=gold, predicted_sql=sql)
            for name, sql in SENDABLE
        ]
        + [
            critic_pb2.Prediction(id="hostile-gold", db_id="concert", gold_sql=sql, predicted_sql=gold)
            for _, sql in SENDABLE[:1]
        ]
        + [
            critic_pb2.Prediction(
                id="deep-gold",
                db_id="concert",
                gold_sql=" UNION ".join(["SELECT 1"] * 1000),
                predicted_sql="SELECT 1",
            )
        ]
    )
    reply = stub.Evaluate(critic_pb2.EvaluateRequest(predictions=predictions, test_suite=True), timeout=600)
    assert sorted(q.id for q in reply.queries) == sorted(p.id for p in predictions)
    assert not any(q.execution_match for q in reply.queries)

    assert _folder_state(folder) == before
    assert critic_service.process.poll() is None
    channel = make_channel(critic_service.target)
    assert check_health(channel) == "SERVING"


def test_votes_keep_only_a_strict_majority_with_test_suites_on(stub):
    sql = "SELECT name FROM singer WHERE age > 40"
    same, other = "SELECT name FROM singer WHERE 40 < age", "SELECT name FROM singer"

    def judge(resampled, share=None, min_votes=None):
        options = critic_pb2.JudgeOptions(test_suite=True, vote_without_gold=True)
        if share is not None:
            options.majority_share = share
        if min_votes is not None:
            options.majority_min_votes = min_votes
        request = critic_pb2.JudgeRequest(
            options=options, candidates=[_candidate("c", sql, resampled=resampled)]
        )
        return list(stub.JudgeCandidates(request, timeout=60))[0]

    everyone = judge([same, same])
    assert everyone.kept and everyone.consistency == 1.0
    two_of_three = judge([same, other])  # the pair's SQL and one re-answer against one
    assert two_of_three.kept and two_of_three.consistency == pytest.approx(2 / 3)
    assert not judge([same, other], share=0.7).kept
    half = judge([same, other, other])  # 2 against 2: no strict majority, whichever wins the tie
    assert not half.kept and half.consistency == pytest.approx(0.5)
    outvoted = judge([other, other])
    assert not outvoted.kept and "majority" in outvoted.reasons[0]
    assert not judge([same, same], min_votes=4).kept  # 3 agree, 4 asked for
    # The bounds StartRun holds majority_share to, [0, 1): a share of 1 can never be exceeded.
    for share, min_votes in ((1.0, None), (-0.1, None), (None, 0)):
        with pytest.raises(grpc.RpcError) as info:
            judge([same, same], share=share, min_votes=min_votes)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "majority_share must be within [0, 1)" in info.value.details() or "majority_min_votes" in (
            info.value.details()
        )


def test_vote_picks_the_majority_answer_and_the_greedy_one_on_a_tie(stub):
    forty = "SELECT name FROM singer WHERE age > 40"
    items = [
        critic_pb2.VoteItem(
            id="majority",
            db_id="concert",
            sql=["SELECT name FROM singer", forty, "SELECT name FROM singer WHERE 40 < age", "SELEC broken"],
            preferred=0,
        ),
        critic_pb2.VoteItem(
            id="tie", db_id="concert", sql=[forty, "SELECT count(*) FROM singer"], preferred=1
        ),
        critic_pb2.VoteItem(
            id="nothing-runs",
            db_id="concert",
            sql=["DELETE FROM singer", "nonsense", "SELECT nme FROM singer"],
        ),
        critic_pb2.VoteItem(
            id="nothing-returned",
            db_id="concert",
            sql=["SELECT name FROM singer WHERE 1 = 0", "broken", "SELECT age FROM singer WHERE 0 = 1"],
        ),
    ]
    for interactive in (False, True):  # the interactive lane (ask) settles votes the same way
        reply = stub.Vote(
            critic_pb2.VoteRequest(items=items, test_suite=True, interactive=interactive), timeout=60
        )
        majority, tie, nothing, empty = reply.outcomes
        assert majority.winner_sql == forty and majority.winner_index == 1
        assert (majority.agreement_votes, majority.executable) == (2, 3)
        assert list(majority.group_sizes) == [2, 1]
        assert tie.winner_index == 1 and tie.agreement == pytest.approx(0.5)
        assert nothing.winner_index == -1 and nothing.winner_sql == "" and nothing.executable == 0
        # Each sample's SQLite error, for a repair: refused statements are verdicts, not errors.
        assert list(nothing.errors) == ["", "", "no such column: nme"] and set(majority.errors) == {""}
        assert not majority.winner_empty and empty.winner_empty and empty.agreement_votes == 2


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (critic_pb2.VoteRequest(), "items is empty"),
        (
            critic_pb2.VoteRequest(items=[critic_pb2.VoteItem(id="a", db_id="concert")]),
            f"item a needs 1 to {MAX_SAMPLES} SQL samples, got 0",
        ),
        (
            critic_pb2.VoteRequest(
                items=[critic_pb2.VoteItem(id="a", db_id="concert", sql=["SELECT 1"], preferred=3)]
            ),
            "item a: preferred 3 is not a sample index",
        ),
        (
            critic_pb2.VoteRequest(
                items=[critic_pb2.VoteItem(id="a", db_id="concert", sql=["SELECT 1"] * 300)]
            ),
            f"item a needs 1 to {MAX_SAMPLES} SQL samples, got 300",
        ),
        (
            critic_pb2.VoteRequest(  # a round's worth of votes may not take the interactive lane
                items=[critic_pb2.VoteItem(id=str(i), db_id="concert", sql=["SELECT 1"]) for i in range(5)],
                interactive=True,
            ),
            f"an interactive vote settles at most {MAX_INTERACTIVE_VOTE_ITEMS} questions, got 5",
        ),
    ],
)
def test_vote_rejects_malformed_requests(stub, request_, reason):
    with pytest.raises(grpc.RpcError) as info:
        stub.Vote(request_, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and reason in info.value.details()


def test_vote_on_an_unknown_database_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as info:
        stub.Vote(critic_pb2.VoteRequest(items=[critic_pb2.VoteItem(id="a", db_id="nope", sql=["SELECT 1"])]))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_eval_cli_scores_with_the_critic_services_limits_from_the_config(spider_dir, tmp_path):
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT count(*) FROM singer\tconcert\n")
    pred = tmp_path / "pred.sql"  # right, but slow: a million-row recursion before the answer
    pred.write_text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
        "SELECT count(*) FROM singer WHERE (SELECT max(i) FROM n) > 0\n"
    )
    config = tmp_path / "sqldistill.yaml"
    config.write_text(f"home: {tmp_path / 'home'}\ncritic: {{timeout_ms: 100}}\n")

    def scored(*extra: str) -> dict:
        out = tmp_path / "report.json"
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "eval", "--gold", str(gold), "--pred", str(pred)]
            + ["--db-dir", str(spider_dir / "database"), "--out", str(out), *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(out.read_text())["queries"][0]

    # the config's deadline, as the critic service would apply it (was the built-in 2 s)
    cut = scored("--config", str(config))
    assert not cut["execution_match"] and "timeout" in cut["error"].lower(), cut
    assert scored("--config", str(config), "--timeout-ms", "60000")["execution_match"]  # the flag wins
