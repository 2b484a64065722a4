# Python callables imported by the sample DAG files; it sits beside them in the
# dags folder, which Airflow puts on sys.path when it parses and runs them.


def greet(name: str) -> str:
    message = f"hello, {name}"
    print(message)
    return message
