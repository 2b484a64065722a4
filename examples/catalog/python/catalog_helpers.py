"""Python callables used by the catalog examples' DAGs."""

try:
    from airflow.sdk import BaseNotifier
except ImportError:  # Airflow 2.11, for a build with `--target 2.11`
    from airflow.notifications.basenotifier import BaseNotifier


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


def check_exports(table: str) -> str:
    print(f"exports of {table} are complete")
    return table


def report_quality(table: str, checks: int) -> None:
    print(f"{table}: {checks} checks passed")


def clean() -> None:
    print("cleaned")


def dedupe() -> None:
    print("deduplicated")


def post_to_chat(context, channel: str, mention: str | None = None) -> None:
    who = f"{mention} " if mention else ""
    print(f"[{channel}] {who}{context['ti'].task_id if 'ti' in context else 'dag'} finished")


def record_success(context) -> None:
    print("recorded success")


class PagerNotifier(BaseNotifier):
    """Pages a team's on-call; a real one would call a paging service."""

    def __init__(self, team: str, urgency: str = "high"):
        super().__init__()
        self.team = team
        self.urgency = urgency

    def notify(self, context) -> None:
        print(f"paging {self.team} ({self.urgency})")


def extract(table: str) -> int:
    print(f"extracting {table}")
    return 10


def load(table: str, day: str) -> None:
    print(f"loading {table} for {day}")


def source_ready() -> bool:
    print("the source reports ready")
    return True


RECORDED: list[str] = []


def record_report(report: str) -> None:
    """A stand-in for `publish` that a test injects: it only remembers the call."""
    RECORDED.append(report)
    print(f"recorded report {report}")
