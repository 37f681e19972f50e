"""Re-create a model from its manifest alone, and say whether every bit came back.

Usage: python -m <module>.reproduce [--model models/<name>.json]
(or ``make reproduce MODEL=models/<name>.json``, or ``<project> reproduce``).

Without --model it takes the newest model in models/.  It

1. checks out the manifest's commit in a temporary git worktree (your
   working tree, branch and untracked files stay as they are), and applies
   the recorded patch of a model trained with --allow-dirty;
2. uses this project's .venv when it holds exactly that commit's locks, and
   otherwise builds a venv from them inside the worktree;
3. refuses data whose sha256 differs from the manifest's;
4. trains again with the recorded config file, overrides and seed;
5. compares the weights and the held-out predictions with the manifest.

It prints ``reproduced: bit-identical`` and exits 0, or says what differs,
with the likely reasons, and exits 1.  Either way it records the outcome in
``models/reproduced/<name>.json``, for ``make experiments``; the manifest and
the weights stay as they were.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import artifacts, backends, cli, envcheck, paths, portable
from .errors import ProjectError, run_command
from .experiments import record_outcome

COMMAND = "reproduce"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument("--model", type=Path, help="the model's manifest (default: the newest)")
    parser.add_argument(
        "--models-dir", type=Path, default=paths.in_project("models"), help="where models are"
    )
    return parser.parse_args(argv)


def _git(*args: str, cwd: Path = paths.ROOT) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError:
        raise ProjectError("git was not found; install git to re-create a model") from None


def _manifest_path(args: argparse.Namespace) -> Path:
    if args.model is None:
        return artifacts.latest_manifest(args.models_dir)
    if args.model.suffix != ".json":
        raise ProjectError(f"--model {args.model}: give the model's manifest, a .json file")
    return args.model


def _check_commit(manifest: Mapping[str, Any], manifest_path: Path) -> str:
    commit = manifest["git"]["commit"]
    if not isinstance(commit, str) or not commit:
        raise ProjectError(
            f"manifest {manifest_path} records no commit (it was trained outside git), "
            "so it cannot be re-created from one"
        )
    if _git("cat-file", "-e", commit + "^{commit}").returncode != 0:
        raise ProjectError(
            f"commit {commit[:12]} of {manifest_path} is not in this repository; "
            "fetch it (a shallow clone lacks old commits: git fetch --unshallow)"
        )
    return commit


def _sha256_or_none(path: Path) -> str | None:
    return artifacts.sha256_file(path) if path.is_file() else None


def _apply_patch(manifest: Mapping[str, Any], manifest_path: Path, tree: Path) -> bool:
    """Apply the recorded uncommitted change, if the model had one; True if it did."""
    patch = manifest["git"].get("patch")
    if not patch:
        return False
    path = manifest_path.with_name(str(patch["file"]))
    if _sha256_or_none(path) != patch["sha256"]:
        raise ProjectError(
            f"{manifest_path} was trained with uncommitted changes recorded in {path.name}, "
            "which is missing or altered; restore it from git or from whoever trained the model"
        )
    done = _git("apply", "--binary", "--whitespace=nowarn", str(path.resolve()), cwd=tree)
    if done.returncode != 0:
        raise ProjectError(f"the patch {path.name} does not apply: {done.stderr.strip()}")
    return True


def _place_data(manifest: Mapping[str, Any], project: Path) -> None:
    """Make sure the worktree holds the very data that trained the model."""
    name, expected = manifest["data"]["file"], manifest["data"]["sha256"]
    target = project / name
    if _sha256_or_none(target) == expected:
        return
    source = paths.in_project(name)
    found = _sha256_or_none(source)
    if found != expected:
        state = "is missing" if found is None else f"has sha256 {found[:12]}..."
        raise ProjectError(
            f"data file {name} {state}, but the model was trained on sha256 "
            f"{expected[:12]}...; get the recorded data (make fetch-data, data/README.md) "
            "and try again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    checksum = source.with_name(source.name + ".sha256")
    if checksum.is_file():
        shutil.copyfile(checksum, target.with_name(checksum.name))


def _python_for(project: Path) -> str:
    """This venv when it holds exactly the commit's locks; otherwise a new one from them."""
    locks = [project / name for name in envcheck.LOCKS]
    if all(lock.is_file() for lock in locks) and not envcheck.drift(locks):
        print("environment: this project's .venv holds exactly that commit's locks")
        return sys.executable
    print("environment: the commit's locks differ from .venv; building a venv from them...")
    venv = project / ".venv"
    env = {**os.environ, "VENV": str(venv), "INSTALL_GIT_HOOK": "0"}
    # An older commit's set-up knows no INSTALL_GIT_HOOK and would point the
    # repository's hook at this temporary venv: the hook is put back as it was.
    with _hook_kept():
        done = subprocess.run(
            setup_command(project), cwd=project, env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        raise ProjectError("the commit's environment could not be built (its output is above)")
    return str(paths.venv_python(venv))


def setup_command(project: Path) -> list[str]:
    """The set-up of the commit's own project: in Python, or in bash before it was."""
    if (project / "scripts" / "setup_venv.py").is_file():
        return [sys.executable, "scripts/setup_venv.py"]
    if (project / "scripts" / "setup_venv.sh").is_file():
        return ["bash", "scripts/setup_venv.sh"]
    raise ProjectError("the commit has no scripts/setup_venv.py to build its environment with")


@contextlib.contextmanager
def _hook_kept() -> Iterator[None]:
    hooks = _git("rev-parse", "--git-path", "hooks").stdout.strip()
    hook = paths.ROOT / hooks / "pre-commit" if hooks else None
    before = hook.read_bytes() if hook is not None and hook.is_file() else None
    try:
        yield
    finally:
        if hook is not None and hook.is_file() and hook.read_bytes() != before:
            if before is None:
                hook.unlink()
            else:
                hook.write_bytes(before)


def _train_again(python: str, manifest: Mapping[str, Any], project: Path, dirty: bool) -> Path:
    output = project.parent / "reproduced-models"
    command = [python, "-m", f"{__package__}.train", "--models-dir", str(output)]
    command += ["--config", manifest["config_file"]]
    # Every recorded value, not only the overrides: the manifest is the recipe.
    for key, value in manifest["config"].items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    if dirty:
        command.append("--allow-dirty")
    # The worktree's code, not the code the venv's editable install points at.
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    print("training again with the manifest's config and seed...", flush=True)
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        raise ProjectError("training at the recorded commit failed (its output is above)")
    (new,) = output.glob("*.json")
    return new


def _value(manifest: Mapping[str, Any], dotted: str) -> Any:
    value: Any = manifest
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


# What decides the bits, with a name a user understands.
REASONS = (
    ("code_paths.pinned_level", "the pinned CPU code-path level"),
    ("code_paths.cpu_level", "the CPU's own level (it decides the kernels when not pinned)"),
    ("code_paths.observed.blas", "the BLAS kernels"),
    ("code_paths.observed.numpy_simd", "NumPy's SIMD level"),
    ("code_paths.observed.framework", "the framework's CPU code path"),
    ("platform.machine", "the architecture"),
    ("platform.system", "the operating system"),
    ("python.version", "the Python version"),
    ("locks", "the lock files"),
    ("packages", "the installed packages"),
    ("threads", "the thread settings"),
    ("data.sha256", "the data"),
    ("git.dirty", "uncommitted changes"),
)


def likely_reasons(recorded: Mapping[str, Any], again: Mapping[str, Any]) -> list[str]:
    lines = []
    for dotted, what in REASONS:
        before, after = _value(recorded, dotted), _value(again, dotted)
        if before != after:
            shown = (
                f"{before} -> {after}"
                if len(json.dumps(before)) + len(json.dumps(after)) < 160
                else "see both manifests"
            )
            lines.append(f"{what} ({dotted}): {shown}")
    return lines


def distance(
    recorded_path: Path, recorded: Mapping[str, Any], new_path: Path, new: Mapping[str, Any]
) -> list[str]:
    """How far apart two models are: identical held-out predictions, largest weight difference."""
    backend = backends.load()
    old_weights = artifacts.weights_path(recorded_path, recorded, backend.WEIGHTS_SUFFIX)
    if not old_weights.is_file():
        return [
            f"the recorded weights file {old_weights.name} is not here (weights are not "
            "committed): copy it beside the manifest to see how far apart the models are"
        ]
    old = old_weights.read_bytes()
    fresh = artifacts.read_weights(new_path, new, backend.WEIGHTS_SUFFIX)
    found = artifacts.sha256_bytes(old)
    if found != recorded["weights"]["sha256"]:
        same = "the same as" if found == new["weights"]["sha256"] else "other than"
        return [
            f"{old_weights.name} does not match its manifest's sha256, and its bytes are "
            f"{same} the new model's: the manifest or the weights file was altered"
        ]
    largest = 0.0
    for a, b in zip(backend.weight_arrays(old), backend.weight_arrays(fresh), strict=True):
        if a.shape != b.shape:
            return ["the two models have weights of different shapes"]
        if a.size:
            largest = max(largest, float(abs(a.astype("float64") - b.astype("float64")).max()))
    same = _same_predictions(backend, recorded, old, fresh)
    return [
        f"identical held-out predictions: {100 * same:.2f}%",
        f"largest weight difference: {largest:.3g}",
    ]


def _same_predictions(backend: Any, manifest: Mapping[str, Any], old: bytes, fresh: bytes) -> float:
    """The share of held-out rows on which both models predict the same."""
    from . import data, predict, preprocess

    cfg = manifest["config"]
    prep = preprocess.Preprocessing.from_record(manifest["preprocessing"], "the manifest")
    rows, _ = predict.held_out(dict(manifest), Path("the manifest"), data.Contract.from_config(cfg))
    x = prep.inputs(rows.x)
    first, second = (
        prep.outputs(backend.scores(backend.from_bytes(w, cfg, x.shape[1], prep.n_outputs), x))[0]
        for w in (old, fresh)
    )
    return sum(a == b for a, b in zip(first, second, strict=True)) / max(len(first), 1)


def reproduce(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    paths.check_running_here()
    manifest_path = _manifest_path(args)
    recorded = artifacts.read_manifest(manifest_path)
    commit = _check_commit(recorded, manifest_path)
    print(f"model {manifest_path.name}, trained at commit {commit[:12]}")
    pin = portable.pin(recorded["config"].get("portable") is True, apply=False)
    note = portable.warning(pin)
    if note:
        print(f"warning: {note}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="reproduce-") as temporary:
        tree = Path(temporary) / "tree"
        added = _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        if added.returncode != 0:
            raise ProjectError(f"git worktree add failed: {added.stderr.strip()}")
        try:
            project = tree / recorded["git"].get("project_folder", "")
            dirty = _apply_patch(recorded, manifest_path, tree)
            _place_data(recorded, project)
            python = _python_for(project)
            new_path = _train_again(python, recorded, project, dirty)
            again = json.loads(new_path.read_text(encoding="utf-8"))
            return _compare(manifest_path, recorded, new_path, again)
        finally:
            _git("worktree", "remove", "--force", str(tree))
            _git("worktree", "prune")


def _compare(
    recorded_path: Path, recorded: Mapping[str, Any], new_path: Path, again: Mapping[str, Any]
) -> int:
    rows = [
        ("weights", recorded["weights"]["sha256"], again["weights"]["sha256"]),
        ("predictions", _value(recorded, "predictions.sha256"), again["predictions"]["sha256"]),
    ]
    for what, before, after in rows:
        print(f"{what:<12} recorded {before}")
        print(f"{'':<12} now      {after}")
    differing = [what for what, before, after in rows if before != after]
    # Shown by `make experiments`; the manifest and weights stay as they were.
    record_outcome(recorded_path, recorded, differing)
    if not differing:
        print("reproduced: bit-identical")
        return 0
    reasons = likely_reasons(recorded, again)
    if reasons:
        print("likely reasons (what differs between the two runs):")
        for line in reasons:
            print(f"  {line}")
    else:
        print(
            "no recorded setting differs: the manifest was altered, or something in the code "
            "is not deterministic (unseeded randomness, a library that sizes its blocks by "
            "the CPU's caches)"
        )
    for line in distance(recorded_path, recorded, new_path, again):
        print(f"  {line}")
    sys.stdout.flush()
    raise ProjectError(
        f"NOT reproduced: the {' and the '.join(differing)} differ from {recorded_path.name}'s"
    )


def main() -> int:
    return run_command(COMMAND, reproduce, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
