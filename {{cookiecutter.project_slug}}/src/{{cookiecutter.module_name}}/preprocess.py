"""From a table to what the model sees, and back: missing cells, labels, scaling.

Everything here is learned on the training rows only and stored in the
manifest, so predict applies exactly the same steps to new rows: the
features are centred and scaled by the training rows' mean and spread, an
empty cell is filled with the training rows' mean (``missing = "impute"``),
class labels become numbers in the order of ``classes``, and a regression
target is scaled and scaled back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import data
from .errors import ProjectError


@dataclass(frozen=True)
class Examples:
    """The rows a model trains and is tested on, after the missing-value policy."""

    table: data.Table
    targets: Any  # class numbers (int64) or values (float64)
    classes: list[str] | None
    dropped: int


def examples(table: data.Table, contract: data.Contract) -> Examples:
    """Apply the missing-value policy and turn the labels into targets."""
    import numpy as np

    keep = np.ones(len(table.x), dtype=bool)
    empty_label = table.labels == ""
    if empty_label.any():
        if contract.missing == "refuse":
            line = table.lines[np.flatnonzero(empty_label)[0]]
            raise ProjectError(
                f"{table.source}, line {line}, column {contract.label!r}: the label is empty; "
                'fill it, or set data.missing = "drop" in configs/train.toml'
            )
        keep &= ~empty_label
    missing_cells = np.isnan(table.x)
    if missing_cells.any():
        if contract.missing == "refuse":
            raise ProjectError(
                f"{data.first_missing(table)}: the cell is empty; fill it, or set "
                'data.missing = "drop" or "impute" in configs/train.toml'
            )
        if contract.missing == "drop":
            keep &= ~missing_cells.any(axis=1)
    kept = rows_of(table, keep)
    if len(kept.x) < 2:
        raise ProjectError(f"{table.source}: fewer than 2 rows are left to learn from")
    if contract.regression:
        return Examples(
            kept,
            data.numeric_labels(kept.labels, kept.source, kept.lines, contract.label),
            None,
            int((~keep).sum()),
        )
    classes = data.class_names(kept.labels)
    if len(classes) < 2:
        raise ProjectError(
            f"{table.source}: the label {contract.label!r} has one value only ({classes[0]!r}); "
            "a classifier needs two or more"
        )
    index = {name: number for number, name in enumerate(classes)}
    targets = np.asarray([index[label] for label in kept.labels.tolist()], dtype=np.int64)
    return Examples(kept, targets, classes, int((~keep).sum()))


def rows_of(table: data.Table, keep: Any) -> data.Table:
    labels = None if table.labels is None else table.labels[keep]
    return data.Table(
        table.source, table.features, table.x[keep], labels, table.ids[keep], table.lines[keep]
    )


@dataclass(frozen=True)
class Preprocessing:
    """The steps learned on the training rows, as the manifest records them."""

    features: list[str]
    fill: list[float]
    center: list[float]
    scale: list[float]
    classes: list[str] | None
    target: dict[str, float] | None

    @classmethod
    def fit(cls, x: Any, features: Sequence[str], classes, targets: Any) -> Preprocessing:
        import numpy as np

        means = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0)
        filled = np.where(np.isnan(x), means, x)
        spread = filled.std(axis=0)
        target = None
        if classes is None:
            deviation = float(targets.std()) or 1.0
            target = {"center": float(targets.mean()), "scale": deviation}
        return cls(
            features=list(features),
            fill=[float(v) for v in means],
            center=[float(v) for v in filled.mean(axis=0)],
            scale=[float(v) if v > 0 else 1.0 for v in spread],
            classes=classes,
            target=target,
        )

    def record(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "fill": self.fill,
            "center": self.center,
            "scale": self.scale,
            "classes": self.classes,
            "target": self.target,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], source: str) -> Preprocessing:
        try:
            fields = {key: record[key] for key in cls.__dataclass_fields__}
            if fields["classes"] is None:  # a value: predict scales it back with these two
                fields["target"] = {
                    key: float(fields["target"][key]) for key in ("center", "scale")
                }
            made = cls(**fields)
            if not len(made.features) == len(made.fill) == len(made.center) == len(made.scale):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise ProjectError(
                f"{source}: its preprocessing record is incomplete; retrain: make train"
            ) from None
        return made

    @property
    def n_outputs(self) -> int:
        return 1 if self.classes is None else len(self.classes)

    def inputs(self, x: Any) -> Any:
        """The model's inputs: empty cells filled, then centred and scaled."""
        import numpy as np

        filled = np.where(np.isnan(x), np.asarray(self.fill), x)
        return (filled - np.asarray(self.center)) / np.asarray(self.scale)

    def model_targets(self, targets: Any) -> Any:
        if self.target is None:
            return targets
        return (targets - self.target["center"]) / self.target["scale"]

    def outputs(self, scores: Any) -> tuple[list[str], Any]:
        """Predicted labels (class names, or values as text) and class probabilities."""
        if self.classes is None:
            values = scores * self.target["scale"] + self.target["center"]
            return [repr(float(v)) for v in values], None
        return [self.classes[i] for i in scores.argmax(axis=1).tolist()], scores

    def values(self, scores: Any) -> Any:
        return scores * self.target["scale"] + self.target["center"]


def metrics(prep: Preprocessing, scores: Any, targets: Any) -> dict[str, Any]:
    """How the model does on the held-out rows.

    Classes: accuracy, each class's precision, recall, F1 and support, their
    macro averages (the plain mean over classes), and the confusion matrix
    (a row per true class, a column per predicted class, in the order of
    ``classes``).  Values: rmse, mae and r2, in the target's own units.
    """
    import numpy as np

    if prep.classes is not None:
        size = len(prep.classes)
        predicted = scores.argmax(axis=1)
        confusion = np.zeros((size, size), dtype=np.int64)
        np.add.at(confusion, (targets, predicted), 1)
        hits = np.diag(confusion).astype(np.float64)
        # A class never predicted (or never present) scores 0, as scikit-learn's zero_division=0.
        precision = np.divide(hits, confusion.sum(axis=0), out=np.zeros(size), where=hits > 0)
        recall = np.divide(hits, confusion.sum(axis=1), out=np.zeros(size), where=hits > 0)
        both = precision + recall
        f1 = np.divide(2 * precision * recall, both, out=np.zeros(size), where=both > 0)
        return {
            "test_accuracy": float(hits.sum() / max(len(targets), 1)),
            "macro_precision": float(precision.mean()),
            "macro_recall": float(recall.mean()),
            "macro_f1": float(f1.mean()),
            "per_class": {
                name: {
                    "precision": float(precision[i]),
                    "recall": float(recall[i]),
                    "f1": float(f1[i]),
                    "support": int(confusion[i].sum()),
                }
                for i, name in enumerate(prep.classes)
            },
            "confusion_matrix": confusion.tolist(),
        }
    error = prep.values(scores) - targets
    total = float(((targets - targets.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt((error**2).mean())),
        "mae": float(np.abs(error).mean()),
        "r2": float(1 - (error**2).sum() / total) if total > 0 else 0.0,
    }


def headline(measured: Mapping[str, Any]) -> dict[str, float]:
    """The single numbers among the metrics (no per-class table, no matrix)."""
    return {name: value for name, value in measured.items() if isinstance(value, float)}


def held_out_loss(prep: Preprocessing, scores: Any, model_targets: Any) -> float:
    """The loss training minimises, on the held-out rows.

    Cross-entropy of the class probabilities, or the mean squared error of
    the scaled target: the same scale as the training loss each epoch.
    """
    import numpy as np

    if prep.classes is not None:
        chosen = scores[np.arange(len(model_targets)), model_targets]
        return float(-np.log(np.maximum(chosen, 1e-12)).mean())
    return float(((scores - model_targets) ** 2).mean())
