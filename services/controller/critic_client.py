"""The controller's typed client of the critic: votes, judging, evaluation and single executions,
each request built here and every call through the caller's policy (a round retries, a person's ask
is tried once)."""

from __future__ import annotations

from collections.abc import Sequence

from services.controller.calls import Caller
from shared.answering import Ballots, VoteOutcome, Voter
from shared.limits import MAX_VOTE_ITEMS
from shared.pb import common_pb2, critic_pb2


class CriticClient:
    def __init__(self, stub: object, call: Caller) -> None:
        self._stub = stub
        self._call = call

    def vote(
        self,
        items: Sequence[Ballots],
        *,
        test_suite: bool = False,
        interactive: bool = False,
        timeout: float | None = None,
    ) -> list[VoteOutcome]:
        """One outcome per item, in order (a person waits when interactive: the critic's own lane);
        MAX_VOTE_ITEMS per call. Outcomes are matched to items by position, not by id."""
        outcomes: list[VoteOutcome] = []
        for start in range(0, len(items), MAX_VOTE_ITEMS):
            request = critic_pb2.VoteRequest(test_suite=test_suite, interactive=interactive)
            for index, item in enumerate(items[start : start + MAX_VOTE_ITEMS]):
                message = request.items.add(id=str(index), db_id=item.db_id, sql=item.sql)
                if item.preferred >= 0:
                    message.preferred = item.preferred
            reply = self._call(lambda r=request: self._stub.Vote(r, timeout=timeout), "critic service (vote)")
            by_id = {o.id: o for o in reply.outcomes}
            outcomes += [
                VoteOutcome(o.winner_index, o.agreement_votes, o.executable, o.winner_empty, tuple(o.errors))
                if o is not None
                else VoteOutcome()
                for o in (by_id.get(str(i)) for i in range(len(request.items)))
            ]
        return outcomes

    def voter(
        self, *, test_suite: bool = False, interactive: bool = False, timeout: float | None = None
    ) -> Voter:
        """vote as shared.answering's Voter."""
        return lambda items: self.vote(items, test_suite=test_suite, interactive=interactive, timeout=timeout)

    def judge(
        self, candidates: Sequence[common_pb2.Candidate], options: critic_pb2.JudgeOptions, timeout: float
    ) -> list[critic_pb2.Verdict]:
        request = critic_pb2.JudgeRequest(options=options, candidates=list(candidates))
        return self._call(
            lambda: list(self._stub.JudgeCandidates(request, timeout=timeout)), "critic service (judge)"
        )

    def evaluate(
        self, predictions: Sequence[critic_pb2.Prediction], *, test_suite: bool, timeout: float
    ) -> critic_pb2.EvaluateResponse:
        request = critic_pb2.EvaluateRequest(predictions=list(predictions), test_suite=test_suite)
        return self._call(lambda: self._stub.Evaluate(request, timeout=timeout), "critic service (evaluate)")

    def execute(self, db_id: str, sql: str) -> critic_pb2.ExecuteResponse:
        request = critic_pb2.ExecuteRequest(db_id=db_id, sql=sql)
        return self._call(lambda: self._stub.Execute(request), "critic service (execute)")
