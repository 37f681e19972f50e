"""The scikit-learn backend: a multi-layer perceptron, saved with skops.

scikit-learn has no global seed: every estimator gets an explicit
``random_state``.  skops loads a model without running code from the file,
and only when every type in it is one this module names as trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import MLP_HYPERPARAMETERS, EpochCallback, is_regression

FRAMEWORK = "scikit-learn"
MODEL_KIND = "mlp"
WEIGHTS_FORMAT = "skops"
WEIGHTS_SUFFIX = ".skops"
HYPERPARAMETERS = MLP_HYPERPARAMETERS

# Types a saved model may hold beyond those skops trusts by default (the
# optimiser state that lets training resume).  Anything else in a file is
# refused before it is loaded.
TRUSTED_TYPES = ("sklearn.neural_network._stochastic_optimizers.AdamOptimizer",)


def prepare_environment(portable: bool) -> dict[str, str]:
    return {}


def cpu_capability() -> dict[str, Any]:
    # Its code paths are NumPy's and the BLAS's, which the manifest records.
    return {}


def make_deterministic(seed: int, threads: int) -> dict[str, Any]:
    from threadpoolctl import threadpool_info, threadpool_limits

    # The variables set before import already did this; the limit makes sure.
    threadpool_limits(threads)
    return {
        "threadpools": sorted(
            f"{pool['internal_api']}={pool['num_threads']}" for pool in threadpool_info()
        )
    }


def random_draws(count: int) -> list[float]:
    # What an estimator draws from when it is given no random_state.
    from sklearn.utils import check_random_state

    return check_random_state(None).random_sample(count).tolist()


def _kind(config: Mapping[str, Any]) -> type:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return MLPRegressor if is_regression(config) else MLPClassifier


def build(config: Mapping[str, Any], n_features: int, n_outputs: int, rng: Any) -> Any:
    return _kind(config)(
        hidden_layer_sizes=(config["hidden"],),
        solver="adam",
        learning_rate_init=config["lr"],
        batch_size=config["batch_size"],
        shuffle=True,
        random_state=config["seed"],
    )


def fit(
    model: Any, x: Any, y: Any, config: Mapping[str, Any], rng: Any, on_epoch: EpochCallback
) -> Any:
    import numpy as np

    options = {} if is_regression(config) else {"classes": np.unique(y)}
    for epoch in range(1, config["epochs"] + 1):
        # One partial_fit is one shuffled pass over the data: progress per epoch.
        model.partial_fit(x, y, **options)
        on_epoch(epoch, float(model.loss_), model)
    return model


def scores(model: Any, x: Any) -> Any:
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)
    return model.predict(x)


def to_bytes(model: Any) -> bytes:
    import skops.io

    return _canonical(skops.io.dumps(model))


def _canonical(data: bytes) -> bytes:
    """The same skops file, with the same bytes for the same model in every process.

    skops names objects by their memory address (``id()``) and stamps each
    zip entry with the current time.  Here the addresses become numbers in
    order of appearance and the times a fixed date; loading is unchanged.
    """
    import io
    import json
    import zipfile

    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def renumber(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    node[key] = ids.setdefault(value, len(ids))
                elif key == "file" and isinstance(value, str):
                    suffix = value[value.rfind(".") :] if "." in value else ""
                    node[key] = files.setdefault(value, f"{len(files)}{suffix}")
                else:
                    renumber(value)
        elif isinstance(node, list):
            for value in node:
                renumber(value)

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        renumber(schema)
        entries = {"schema.json": json.dumps(schema, indent=2).encode("utf-8")}
        entries.update({new: source.read(old) for old, new in files.items()})
        unknown = sorted(set(source.namelist()) - set(files) - {"schema.json"})
        entries.update({name: source.read(name) for name in unknown})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return buffer.getvalue()


def from_bytes(data: bytes, config: Mapping[str, Any], n_features: int, n_outputs: int) -> Any:
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as error:
        raise ValueError(f"not a skops file ({type(error).__name__}: {error})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ValueError(f"holds types this project does not trust: {', '.join(refused)}")
    model = skops.io.loads(data, trusted=list(untrusted) or None)
    kind = _kind(config) if config else type(model)
    if type(model) is not kind or type(model).__name__ not in ("MLPClassifier", "MLPRegressor"):
        raise ValueError(f"holds a {type(model).__name__}, not an {kind.__name__}")
    return model


def weight_arrays(data: bytes) -> list[Any]:
    model = from_bytes(data, {}, 0, 0)
    return [*model.coefs_, *model.intercepts_]
