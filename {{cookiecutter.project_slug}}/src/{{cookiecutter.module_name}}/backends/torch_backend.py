"""The PyTorch backend: a multi-layer perceptron on the CPU, saved as safetensors.

Seeds every generator PyTorch has (CPU, CUDA, the DataLoader's shuffling and
its workers) and switches on its deterministic algorithms, so that a run
repeats bit for bit.  The weights load straight onto the CPU, wherever they
were trained.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from . import MLP_HYPERPARAMETERS, EpochCallback, is_regression

FRAMEWORK = "pytorch"
MODEL_KIND = "mlp"
WEIGHTS_FORMAT = "safetensors"
WEIGHTS_SUFFIX = ".safetensors"
HYPERPARAMETERS = MLP_HYPERPARAMETERS


def prepare_environment(portable: bool) -> dict[str, str]:
    # cuBLAS needs a fixed workspace to be deterministic on a GPU.
    return {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


def cpu_capability() -> dict[str, Any]:
    import torch

    return {
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_mkl": torch.backends.mkl.is_available(),
        "torch_mkldnn": torch.backends.mkldnn.is_available(),
    }


def make_deterministic(seed: int, threads: int) -> dict[str, Any]:
    import torch

    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != 1:
        # Only possible before the first parallel work; a second call in one process skips it.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)
    return {
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "torch_deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
    }


def random_draws(count: int) -> list[float]:
    import torch

    return torch.rand(count, dtype=torch.float64).tolist()


def build(config: Mapping[str, Any], n_features: int, n_outputs: int, rng: Any) -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Linear(n_features, config["hidden"]),
        nn.ReLU(),
        nn.Linear(config["hidden"], n_outputs),
    )


def _seed_worker(worker_id: int) -> None:
    # DataLoader workers (if any are used) seed Python and NumPy from torch's seed.
    import random

    import numpy as np
    import torch

    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def fit(
    model: Any, x: Any, y: Any, config: Mapping[str, Any], rng: Any, on_epoch: EpochCallback
) -> Any:
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    regression = is_regression(config)
    targets = y.astype(np.float32).reshape(-1, 1) if regression else y.astype(np.int64)
    dataset = TensorDataset(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(targets))
    loader = DataLoader(
        dataset,
        batch_size=config["batch_size"],
        shuffle=True,
        num_workers=0,
        generator=torch.Generator().manual_seed(config["seed"]),
        worker_init_fn=_seed_worker,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    loss_function = torch.nn.MSELoss() if regression else torch.nn.CrossEntropyLoss()
    for epoch in range(1, config["epochs"] + 1):
        model.train()  # scoring after each epoch switches it to eval mode
        total = 0.0
        for features, labels in loader:
            optimizer.zero_grad()
            loss = loss_function(model(features), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        on_epoch(epoch, total / len(dataset), model)
    return model


def scores(model: Any, x: Any) -> Any:
    import numpy as np
    import torch

    model.eval()
    with torch.no_grad():
        outputs = model(torch.from_numpy(x.astype(np.float32)))
        if outputs.shape[1] == 1:
            return outputs[:, 0].numpy()
        return torch.softmax(outputs, dim=1).numpy()


def to_bytes(model: Any) -> bytes:
    from safetensors.torch import save

    state = model.state_dict()
    return save({name: tensor.detach().cpu().contiguous() for name, tensor in state.items()})


def from_bytes(data: bytes, config: Mapping[str, Any], n_features: int, n_outputs: int) -> Any:
    from safetensors.torch import load

    try:
        state = load(data)  # tensors on the CPU
    except Exception as error:
        raise ValueError(f"not a safetensors file ({error})") from None
    model = build(config, n_features, n_outputs, None)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ValueError(f"does not fit the configured model: {error}") from None
    model.eval()
    return model


def weight_arrays(data: bytes) -> list[Any]:
    from safetensors.numpy import load

    arrays = load(data)
    return [arrays[name] for name in sorted(arrays)]
