"""Everything that makes a run repeat bit for bit: hash seed, threads, seeds.

The order matters, and each entrypoint follows it:

1. :func:`ensure_hash_seed`: Python fixes its string hashing when the
   interpreter starts, so a wrong ``PYTHONHASHSEED`` needs a fresh process.
2. :func:`prepare_process`: BLAS and OpenMP read their thread counts once,
   when they load, so the variables are set before numpy or the framework
   is imported.  The thread count changes the bits of floating-point sums.
   The CPU code paths are pinned then too (see ``portable``), and GPUs are
   hidden: the project computes on the CPU, where bits repeat.
3. :func:`seed_everything`: Python's ``random``, numpy and the framework,
   with the framework's determinism switches.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import portable as portable_numerics

if TYPE_CHECKING:
    import numpy as np

    from .backends import Backend
    from .portable import Pin

HASH_SEED = "0"

# Read by OpenBLAS, MKL, BLIS, Accelerate, numexpr, OpenMP and TensorFlow.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
)
# Devices other than the CPU give other bits, so every run hides them.
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
HEAVY_MODULES = ("numpy", "scipy", "sklearn", "torch", "tensorflow", "keras", "jax")

# Independent random streams derived from the one seed.
SPLIT_STREAM = 1
TRAINING_STREAM = 2


def ensure_hash_seed(module: str, argv: Sequence[str]) -> None:
    """Start this command again in a fresh interpreter unless PYTHONHASHSEED is fixed.

    Setting the variable inside a running interpreter changes nothing, so
    ``python -m <module>`` re-executes itself once; ``make`` exports it
    already, so make targets run in a single process.
    """
    if os.environ.get("PYTHONHASHSEED") == HASH_SEED:
        return
    env = {**os.environ, "PYTHONHASHSEED": HASH_SEED}
    sys.stdout.flush()
    sys.stderr.flush()
    start_again([sys.executable, "-m", module, *argv], env)


def start_again(command: list[str], env: dict[str, str], replace: bool = os.name != "nt") -> None:
    """Run ``command`` in place of this process, or, on Windows, wait for it and exit as it did.

    Windows has no exec: its ``os.execve`` starts a new process and ends this
    one at once, so whoever waits for this command (a shell, repro-check)
    would stop waiting before the work is done.
    """
    if replace:
        os.execve(command[0], command, env)
    raise SystemExit(subprocess.run(command, env=env, check=False).returncode)


def prepare_process(threads: int, backend: Backend, portable: bool) -> tuple[dict[str, str], Pin]:
    """Pin every thread count and CPU code path, hide GPUs, set the framework's switches.

    This must run before numpy or the framework is imported.  Returns the
    environment that decides threads and code paths, and the code-path pin,
    for the manifest.  A machine where the portable pin cannot hold gets
    one warning line.
    """
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    if loaded:
        raise RuntimeError(
            f"prepare_process() must run before {', '.join(loaded)} is imported: "
            "thread counts are read when those libraries load"
        )
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    for name in GPU_VARIABLES:
        os.environ[name] = ""
    pinned = portable_numerics.pin(portable)
    warning = portable_numerics.warning(pinned)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    framework = backend.prepare_environment(pinned.applied)
    os.environ.update(framework)
    return {**thread_settings(), **framework}, pinned


def thread_settings() -> dict[str, str]:
    """The environment that decides threads and code paths, as it is now."""
    names = (*THREAD_VARIABLES, *portable_numerics.VARIABLES, *GPU_VARIABLES, "PYTHONHASHSEED")
    return {name: os.environ[name] for name in names if name in os.environ}


def seed_everything(seed: int, threads: int, backend: Backend) -> tuple[np.random.Generator, dict]:
    """Seed random, numpy and the framework, and switch on its determinism.

    Returns a numpy generator for the training code, and the framework's own
    thread and determinism settings for the manifest.  Seed 0 is a seed
    like any other.
    """
    import numpy as np

    random.seed(seed)
    # The legacy global generator, for any library code that still draws from it.
    np.random.seed(seed)
    framework = backend.make_deterministic(seed, threads)
    return np.random.default_rng(stream(seed, TRAINING_STREAM)), framework


def stream(seed: int, number: int) -> Any:
    """An independent random stream for one purpose, derived from the seed."""
    import numpy as np

    return np.random.SeedSequence(seed, spawn_key=(number,))
