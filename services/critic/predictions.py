"""Reading and writing prediction sets: Spider's gold/pred text files, Spider or BIRD JSON, JSONL,
and BIRD's prediction file (`{"0": "SQL\\t----- bird -----\\tdb_id", ...}`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from services.critic.scoring import PredictionIn

BIRD_SEPARATOR = "\t----- bird -----\t"


def _read_records(path: Path) -> list[dict]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if path.suffix == ".json":
        data = json.loads(text)
        if isinstance(data, dict):  # BIRD's predictions: question index -> "SQL<separator>db_id"
            try:
                ordered = sorted(data.items(), key=lambda item: int(item[0]))
            except ValueError:
                raise ValueError(f"{path}: a BIRD prediction file's keys are question indices") from None
            return [
                {"predicted_sql": sql, "db_id": db_id}
                for sql, _, db_id in (str(v).partition(BIRD_SEPARATOR) for _, v in ordered)
            ]
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of examples")
        return data
    return []


def read_gold(path: Path) -> list[tuple[str, str, str, str]]:
    """(id, db_id, gold_sql, difficulty) per example. Text files are Spider's `SQL<TAB>db_id` per
    line; JSON may be Spider's (`query`) or BIRD's (`SQL`, `difficulty`, `question_id`)."""
    records = _read_records(path)
    if records:
        return [
            (
                str(r.get("id", r.get("question_id", i))),
                r["db_id"],
                r.get("gold_sql") or r.get("query") or r.get("SQL") or r.get("sql") or "",
                r.get("difficulty", ""),
            )
            for i, r in enumerate(records)
        ]
    gold = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        sql, sep, db_id = line.rpartition("\t")
        if not sep:
            raise ValueError(f"{path}:{i + 1}: expected 'SQL<TAB>db_id'")
        gold.append((str(len(gold)), db_id.strip(), sql.strip(), ""))
    return gold


def read_predictions(path: Path) -> list[str]:
    """Predicted SQL per example, in gold order. Text files hold one query per line (Spider)."""
    records = _read_records(path)
    if records:
        return [r.get("predicted_sql") or r.get("pred") or r.get("sql") or "" for r in records]
    return [line.split("\t")[0].strip() for line in path.read_text().splitlines() if line.strip()]


def load_prediction_set(gold_path: Path, pred_path: Path) -> list[PredictionIn]:
    gold = read_gold(gold_path)
    predicted = read_predictions(pred_path)
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold queries but {len(predicted)} predictions")
    return [
        PredictionIn(id=i, db_id=db, gold_sql=g, predicted_sql=p, difficulty=level)
        for (i, db, g, level), p in zip(gold, predicted, strict=True)
    ]


def write_bird_predictions(predictions: Sequence[str], db_ids: Sequence[str], path: Path) -> None:
    """BIRD's prediction file: one entry per question, in order, SQL on one line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = {
        str(i): (" ".join(sql.split()) or "SELECT 1") + BIRD_SEPARATOR + db_id
        for i, (sql, db_id) in enumerate(zip(predictions, db_ids, strict=True))
    }
    path.write_text(json.dumps(entries, indent=2) + "\n")
