"""Callables of the flow example: each checks what it was handed and writes what it
did to the SQLite file of the `flow_db` connection, where the test looks."""

import json
import os
import sqlite3


def _db() -> sqlite3.Connection:
    # The test hands the connection over as Airflow's JSON form; reading it directly
    # keeps the callables free of any one Airflow version's hook API.
    path = json.loads(os.environ["AIRFLOW_CONN_FLOW_DB"])["host"]
    db = sqlite3.connect(path)
    db.execute("create table if not exists log (step text, item text, value integer)")
    return db


def _log(step: str, item: str, value: int) -> None:
    with _db() as db:
        db.execute("insert into log values (?, ?, ?)", (step, item, value))


def extract() -> dict:
    return {"source": "crm", "rows": [3, 4, 5]}


def transform(rows: list, source: str) -> int:
    assert rows == [3, 4, 5], rows
    assert source == "crm", source
    return sum(rows)


def load(total: int, source: str) -> None:
    assert total == 12, total
    _log("load", source, total)


def record(step: str, item: str, value: int) -> None:
    _log(step, item, value)


def record_region(region: str) -> None:
    _log("region", region, len(region))


def batches() -> list:
    return [["first", [1, 2]], ["second", [3, 4, 5]]]


def sum_batch(name: str, rows: list) -> int:
    _log("batch", name, sum(rows))
    return sum(rows)


def total(sums) -> None:
    # Every mapped instance's return value, in map index order.
    assert list(sums) == [3, 12], list(sums)
    _log("total", "all", sum(sums))


def load_table(table: str, step: str) -> int:
    _log(step, table, len(table))
    return len(table)


def check_table(table: str, size: int) -> int:
    # `size` is what this instance's own `load` returned.
    assert size == len(table), (table, size)
    _log("check", table, size)
    return size


def list_tables() -> list:
    return ["accounts", "contacts", "leads"]


def count_checks(sizes) -> None:
    # One result per instance of the mapped group, in map index order.
    assert list(sizes) == [8, 8, 5], list(sizes)
    _log("checks", "all", len(list(sizes)))
