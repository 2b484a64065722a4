"""Python callables used by the hello example's DAG."""


def greet(name: str) -> str:
    message = f"hello, {name}"
    print(message)
    return message
