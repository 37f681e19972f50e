"""The NumPy backend: a multi-layer perceptron written out in NumPy, saved as safetensors.

No framework at all: the forward pass, the gradients and the Adam optimiser
are the few lines below, and every random draw comes from the generator the
pipeline derives from the seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import MLP_HYPERPARAMETERS, EpochCallback, is_regression

FRAMEWORK = "numpy"
MODEL_KIND = "mlp"
WEIGHTS_FORMAT = "safetensors"
WEIGHTS_SUFFIX = ".safetensors"
HYPERPARAMETERS = MLP_HYPERPARAMETERS

PARAMETERS = ("w1", "b1", "w2", "b2")
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


def prepare_environment(portable: bool) -> dict[str, str]:
    return {}


def cpu_capability() -> dict[str, Any]:
    # Its code paths are NumPy's and the BLAS's, which the manifest records.
    return {}


def make_deterministic(seed: int, threads: int) -> dict[str, Any]:
    # NumPy's own state is seeded by the pipeline; BLAS threads were pinned
    # through the environment before NumPy loaded.
    return {}


def random_draws(count: int) -> list[float]:
    import numpy as np

    return np.random.random(count).tolist()


def build(config: Mapping[str, Any], n_features: int, n_outputs: int, rng: Any) -> dict:
    import numpy as np

    hidden = config["hidden"]
    # He initialisation, for the ReLU layer.
    return {
        "w1": rng.normal(0.0, np.sqrt(2.0 / n_features), (n_features, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0.0, np.sqrt(2.0 / hidden), (hidden, n_outputs)),
        "b2": np.zeros(n_outputs),
    }


def _forward(model: Mapping[str, Any], x: Any) -> tuple[Any, Any]:
    import numpy as np

    hidden = np.maximum(x @ model["w1"] + model["b1"], 0.0)
    return hidden, hidden @ model["w2"] + model["b2"]


def fit(
    model: dict, x: Any, y: Any, config: Mapping[str, Any], rng: Any, on_epoch: EpochCallback
) -> dict:
    import numpy as np

    beta1, beta2 = ADAM_BETAS
    regression = is_regression(config)
    moments = {name: (np.zeros_like(model[name]), np.zeros_like(model[name])) for name in model}
    step = 0
    for epoch in range(1, config["epochs"] + 1):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), config["batch_size"]):
            rows = order[start : start + config["batch_size"]]
            xb, yb = x[rows], y[rows]
            hidden, logits = _forward(model, xb)
            if regression:
                # Mean squared error of the one linear output.
                error = logits[:, 0] - yb
                total += float((error**2).sum())
                d_logits = (2.0 * error / len(yb))[:, None]
            else:
                # Softmax cross-entropy, shifted by the row maximum for stability.
                probabilities = _softmax(logits)
                total += float(-np.log(probabilities[np.arange(len(yb)), yb] + 1e-12).sum())
                d_logits = probabilities
                d_logits[np.arange(len(yb)), yb] -= 1.0
                d_logits /= len(yb)
            d_hidden = (d_logits @ model["w2"].T) * (hidden > 0)
            gradients = {
                "w1": xb.T @ d_hidden,
                "b1": d_hidden.sum(axis=0),
                "w2": hidden.T @ d_logits,
                "b2": d_logits.sum(axis=0),
            }
            step += 1
            for name, gradient in gradients.items():
                first, second = moments[name]
                first *= beta1
                first += (1 - beta1) * gradient
                second *= beta2
                second += (1 - beta2) * gradient**2
                corrected_first = first / (1 - beta1**step)
                corrected_second = second / (1 - beta2**step)
                model[name] -= (
                    config["lr"] * corrected_first / (np.sqrt(corrected_second) + ADAM_EPSILON)
                )
        on_epoch(epoch, total / len(x), model)
    return model


def _softmax(logits: Any) -> Any:
    import numpy as np

    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def scores(model: Mapping[str, Any], x: Any) -> Any:
    outputs = _forward(model, x)[1]
    return outputs[:, 0] if outputs.shape[1] == 1 else _softmax(outputs)


def to_bytes(model: Mapping[str, Any]) -> bytes:
    from safetensors.numpy import save

    return save({name: model[name] for name in PARAMETERS})


def from_bytes(data: bytes, config: Mapping[str, Any], n_features: int, n_outputs: int) -> dict:
    from safetensors.numpy import load

    try:
        model = load(data)
    except Exception as error:
        raise ValueError(f"not a safetensors file ({error})") from None
    shapes = {
        "w1": (n_features, config["hidden"]),
        "b1": (config["hidden"],),
        "w2": (config["hidden"], n_outputs),
        "b2": (n_outputs,),
    }
    found = {name: tuple(array.shape) for name, array in model.items()}
    if found != shapes:
        raise ValueError(f"holds tensors {found}, expected {shapes}")
    return model


def weight_arrays(data: bytes) -> list[Any]:
    from safetensors.numpy import load

    arrays = load(data)
    return [arrays[name] for name in sorted(arrays)]
