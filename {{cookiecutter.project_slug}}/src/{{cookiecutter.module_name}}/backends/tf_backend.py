"""The TensorFlow backend: a Keras multi-layer perceptron on the CPU, saved as safetensors.

Sets the Keras, TensorFlow, NumPy and Python seeds in one call, switches on
TensorFlow's op determinism, fixes its thread pools and hides every GPU
before the runtime starts.  The weights are stored as plain arrays, so a
file can never carry code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import MLP_HYPERPARAMETERS, EpochCallback, is_regression

FRAMEWORK = "tensorflow"
MODEL_KIND = "mlp"
WEIGHTS_FORMAT = "safetensors"
WEIGHTS_SUFFIX = ".safetensors"
HYPERPARAMETERS = MLP_HYPERPARAMETERS


def prepare_environment(portable: bool) -> dict[str, str]:
    environment = {
        # TensorFlow's C++ log lines (start-up notices, version chatter) would bury the
        # progress; real failures still arrive as Python exceptions.
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_DETERMINISTIC_OPS": "1",
        "KERAS_BACKEND": "tensorflow",
    }
    if portable:
        # oneDNN picks its kernels and blocks by CPU model; without it, TensorFlow's
        # own kernels run the same code on every x86-64-v3 CPU.
        environment["TF_ENABLE_ONEDNN_OPTS"] = "0"
    return environment


def cpu_capability() -> dict[str, Any]:
    import os

    return {"tf_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TensorFlow's default")}


def make_deterministic(seed: int, threads: int) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    try:
        tf.config.set_visible_devices([], "GPU")
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        # The runtime has started (a second call in one process): it must match.
        if tf.config.threading.get_intra_op_parallelism_threads() != threads:
            raise
    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow
    tf.config.experimental.enable_op_determinism()
    return {
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tf_op_determinism": True,
    }


def random_draws(count: int) -> list[float]:
    import tensorflow as tf

    return tf.random.uniform([count], dtype=tf.float64).numpy().tolist()


def build(config: Mapping[str, Any], n_features: int, n_outputs: int, rng: Any) -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(config["hidden"], activation="relu"),
            keras.layers.Dense(n_outputs),
        ]
    )


def fit(
    model: Any, x: Any, y: Any, config: Mapping[str, Any], rng: Any, on_epoch: EpochCallback
) -> Any:
    import keras
    import numpy as np

    regression = is_regression(config)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config["lr"]),
        loss=keras.losses.MeanSquaredError()
        if regression
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    progress = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, float(logs["loss"]), model)
    )
    model.fit(
        x.astype(np.float32),
        y.astype(np.float32).reshape(-1, 1) if regression else y,
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        shuffle=True,
        verbose=0,
        callbacks=[progress],
    )
    return model


def scores(model: Any, x: Any) -> Any:
    import numpy as np

    outputs = np.asarray(model(x.astype(np.float32), training=False), dtype=np.float64)
    if outputs.shape[1] == 1:
        return outputs[:, 0]
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def to_bytes(model: Any) -> bytes:
    import numpy as np
    from safetensors.numpy import save

    # Numbered in layer order: Keras' own names change with every model built.
    return save({f"{i:03d}": np.ascontiguousarray(w) for i, w in enumerate(model.get_weights())})


def from_bytes(data: bytes, config: Mapping[str, Any], n_features: int, n_outputs: int) -> Any:
    from safetensors.numpy import load

    try:
        arrays = load(data)
    except Exception as error:
        raise ValueError(f"not a safetensors file ({error})") from None
    model = build(config, n_features, n_outputs, None)
    expected = [tuple(w.shape) for w in model.get_weights()]
    found = [tuple(arrays[name].shape) for name in sorted(arrays)]
    if found != expected:
        raise ValueError(f"holds arrays of shapes {found}, expected {expected}")
    model.set_weights([arrays[name] for name in sorted(arrays)])
    return model


def weight_arrays(data: bytes) -> list[Any]:
    from safetensors.numpy import load

    arrays = load(data)
    return [arrays[name] for name in sorted(arrays)]
