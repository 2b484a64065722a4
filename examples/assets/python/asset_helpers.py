"""Python callables used by the assets example's DAGs."""


def join() -> str:
    print("joined orders, customers and fx rates")
    return "joined"


def split_by_day(outlet_events, logical_date=None) -> str:
    """Announce the day's partition through the `orders_by_day` alias."""
    # Imported here so the module loads on every Airflow version the tests target.
    from airflow.sdk import Asset, AssetAlias

    day = logical_date.date().isoformat() if logical_date else "unscheduled"
    uri = f"s3://lake/orders/day={day}"
    outlet_events[AssetAlias("orders_by_day")].add(Asset(uri))
    print(f"announced {uri}")
    return uri
