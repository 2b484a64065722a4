"""Python callables used by the reports example's DAGs."""


def check_rows(report: str) -> int:
    rows = 42
    print(f"{report}: {rows} rows")
    return rows


def sign_off() -> str:
    print("finance close signed off")
    return "signed"
