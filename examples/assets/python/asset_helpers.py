"""Python callables used by the assets example's DAGs."""


def join() -> str:
    print("joined orders, customers and fx rates")
    return "joined"
