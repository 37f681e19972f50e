"""The one small interface between the shared pipeline and a framework.

Each ``*_backend.py`` module in this folder implements it for one framework;
a project keeps exactly one, and :func:`load` finds it.  Supporting another
framework means writing one such module.

A backend module must not import its framework (or numpy) at import time:
the pipeline first pins thread counts, which those libraries read when they
load.  Import them inside the functions.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..config import Setting
from ..errors import ProjectError

# Called after each epoch with the epoch number (from 1), the mean training loss
# and the model as it stands, which the pipeline scores on the held-out rows.
# Scoring draws no random number, so it leaves the training's bits unchanged.
EpochCallback = Callable[[int, float, Any], None]


def is_regression(config: Mapping[str, Any]) -> bool:
    return config.get("data.task") == "regression"


# A small multi-layer perceptron's hyperparameters, shared by the backends
# that train one; the labels make up the model's file name.
MLP_HYPERPARAMETERS: dict[str, Setting] = {
    "hidden": Setting(int, 1, 4096, "h", "units in the hidden layer"),
    "lr": Setting(float, 1e-6, 10.0, "lr", "learning rate of the Adam optimiser"),
    "epochs": Setting(int, 1, 10_000, "ep", "passes over the training data"),
    "batch_size": Setting(int, 1, 100_000, "bs", "rows in each gradient step"),
}


class Backend(Protocol):
    """What a backend module provides (module attributes and functions)."""

    FRAMEWORK: str  # the project's framework answer, for example "pytorch"
    MODEL_KIND: str  # first part of the model file name, for example "mlp"
    WEIGHTS_FORMAT: str  # "safetensors" or "skops": formats that load without running code
    WEIGHTS_SUFFIX: str
    HYPERPARAMETERS: Mapping[str, Setting]

    def prepare_environment(self, portable: bool) -> dict[str, str]:
        """Environment variables the framework needs set before it is imported.

        ``portable`` says whether the CPU code paths are pinned (see ``portable``).
        """

    def cpu_capability(self) -> dict[str, Any]:
        """The framework's own CPU code path in this process, for the manifest."""

    def make_deterministic(self, seed: int, threads: int) -> dict[str, Any]:
        """Seed the framework, switch on its determinism, set its threads; report them."""

    def random_draws(self, count: int) -> list[float]:
        """Draws from the framework's own global generator (for tests of seeding)."""

    def build(self, config: Mapping[str, Any], n_features: int, n_outputs: int, rng: Any) -> Any:
        """A new, untrained model: ``n_outputs`` classes, or 1 for regression.

        ``config["data.task"]`` says which: classification learns class
        numbers with a cross-entropy loss, regression one number with MSE.
        """

    def fit(
        self,
        model: Any,
        x: Any,
        y: Any,
        config: Mapping[str, Any],
        rng: Any,
        on_epoch: EpochCallback,
    ) -> Any:
        """Train on float features ``x`` and labels ``y``: class numbers, or floats."""

    def scores(self, model: Any, x: Any) -> Any:
        """For ``x``, as a numpy array: each class's probability, or the predicted value."""

    def to_bytes(self, model: Any) -> bytes:
        """The model's weights in WEIGHTS_FORMAT."""

    def weight_arrays(self, data: bytes) -> list[Any]:
        """The weights in ``data`` as numpy arrays, in a fixed order (to compare two models)."""

    def from_bytes(
        self, data: bytes, config: Mapping[str, Any], n_features: int, n_outputs: int
    ) -> Any:
        """A model with the weights in ``data``, on the CPU; raises ValueError if unreadable."""


def available() -> list[str]:
    """Names of the backend modules present in this folder."""
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if info.name.endswith("_backend")
    )


def load() -> Backend:
    """The one backend this project has."""
    names = available()
    if len(names) != 1:
        found = ", ".join(names) or "none"
        raise ProjectError(
            f"{__name__} must hold exactly one *_backend.py module, found: {found}; "
            "keep the one for your framework"
        )
    return importlib.import_module(f"{__name__}.{names[0]}")
