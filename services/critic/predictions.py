"""Reading prediction sets for evaluation: Spider's gold/pred text files, Spider JSON, or JSONL."""

from __future__ import annotations

import json
from pathlib import Path

from services.critic.logic import PredictionIn


def _read_records(path: Path) -> list[dict]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if path.suffix == ".json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of examples")
        return data
    return []


def read_gold(path: Path) -> list[tuple[str, str, str]]:
    """(id, db_id, gold_sql) per example. Text files are Spider's `SQL<TAB>db_id` per line."""
    records = _read_records(path)
    if records:
        return [
            (str(r.get("id", i)), r["db_id"], r.get("gold_sql") or r.get("query") or r.get("sql") or "")
            for i, r in enumerate(records)
        ]
    gold = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        sql, sep, db_id = line.rpartition("\t")
        if not sep:
            raise ValueError(f"{path}:{i + 1}: expected 'SQL<TAB>db_id'")
        gold.append((str(len(gold)), db_id.strip(), sql.strip()))
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
        PredictionIn(id=i, db_id=db, gold_sql=g, predicted_sql=p)
        for (i, db, g), p in zip(gold, predicted, strict=True)
    ]
