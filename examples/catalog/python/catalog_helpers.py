"""Python callables used by the catalog examples' DAGs."""


def transform(table: str, day: str) -> str:
    print(f"transforming {table} for {day}")
    return table


def publish(report: str) -> None:
    print(f"publishing report {report}")


def validate_rows(table: str, minimum: int) -> int:
    rows = 10
    if rows < minimum:
        raise ValueError(f"{table} has {rows} rows, fewer than {minimum}")
    return rows
