"""Operators of the catalog's own, used through the plugin of entry 101.9.2."""

try:
    from airflow.sdk import BaseOperator
except ImportError:  # Airflow 2.11, for a build with `--target 2.11`
    from airflow.models.baseoperator import BaseOperator


class RowCountCheckOperator(BaseOperator):
    """Counts a table's rows (here, pretends to) and fails below a minimum."""

    template_fields = ("table",)

    def __init__(self, *, table: str, min_rows: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.table = table
        self.min_rows = min_rows

    def execute(self, context):
        rows = 10
        if rows < self.min_rows:
            raise ValueError(f"{self.table} has {rows} rows, fewer than {self.min_rows}")
        self.log.info("%s has %d rows", self.table, rows)
        return rows
