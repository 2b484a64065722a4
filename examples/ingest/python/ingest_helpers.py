"""Python callables used by the ingest example's DAGs."""


def check_landing(sources: list[str]) -> int:
    for source in sources:
        print(f"checked landing area of {source}")
    return len(sources)
