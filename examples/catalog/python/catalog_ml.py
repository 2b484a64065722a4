"""Python callables of the ML experiment DAGs (catalog entry 101.10.3).

A stand-in for a training stack: nothing is trained and nothing is written. Each
function prints what it would do and returns a small result, the same for the same
arguments, so a run can be checked.
"""

import hashlib


def prepare(dataset: str, seed: int) -> str:
    print(f"splitting {dataset} into training and test sets (seed {seed})")
    return dataset


def train(
    experiment: str,
    model: str,
    params: dict,
    learning_rate: float,
    batch_size: int,
    seed: int,
    metric: str,
) -> dict:
    """Pretends to train `model` with one combination of the grid; returns its score."""
    key = f"{experiment}/{model}/{learning_rate}/{batch_size}/{seed}"
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16)
    score = round(0.6 + 0.35 * digest / 0xFFFF, 4)
    print(
        f"{experiment}: trained {model} {params} with learning_rate={learning_rate}, "
        f"batch_size={batch_size}: {metric}={score}"
    )
    return {
        "model": model,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        metric: score,
    }


def track(experiment: str, metric: str, runs: list[dict], ti=None) -> dict:
    """Collects the score of every training run (from XCom), prints the table and
    returns the best run. `runs` lists, per model, the task ids of its runs."""
    results = []
    for entry in runs:
        for task_id in entry["tasks"]:
            result = ti.xcom_pull(task_ids=task_id)
            if result is None:
                raise ValueError(f"{task_id} left no result")
            results.append(result)
    if not results:
        raise ValueError(f"{experiment}: no runs to compare")
    results.sort(key=lambda r: r[metric], reverse=True)
    for r in results:
        print(
            f"{experiment}: {r['model']:<8} lr={r['learning_rate']:<6} "
            f"batch={r['batch_size']:<5} {metric}={r[metric]}"
        )
    best = results[0]
    print(f"{experiment}: best run is {best['model']} with {metric}={best[metric]}")
    return best
