"""Files that the commands write and read: atomic writes, checksums, models, manifests.

Every file is first written to a temporary file in the same folder, flushed
to disk, and then renamed over its final name, which is atomic: a reader, or
a run interrupted at any moment, sees the old file or the new one, never
half of one.  A model and its manifest are renamed together with Ctrl-C and
SIGTERM held back, so neither exists without the other.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ProjectError

MANIFEST_FORMAT = 2
# The fields predict relies on; a manifest without them is refused.
REQUIRED_FIELDS = (
    "format",
    "framework",
    "weights.file",
    "weights.format",
    "weights.sha256",
    "config",
    "overrides",
    "seed",
    "data.file",
    "data.sha256",
    "git.commit",
    "git.dirty",
    "packages",
    "threads",
)

FIELD_TYPES = {
    "framework": str,
    "weights.sha256": str,
    "config": dict,
    "data.file": str,
    "data.sha256": str,
    "packages": dict,
}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _temporary_copy(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temporary file beside ``path``, flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private; give it the permissions of a normal new file.
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until the block ends (POSIX)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_files_atomically(files: Mapping[Path, bytes]) -> None:
    """Write several files so that each appears whole, and all of them or none.

    They are renamed into place in the order given, so the last one (a
    model's manifest) appears last: a reader that finds it finds the rest.
    If a rename fails, the files this call had already put in place, where
    nothing stood before, are removed again.
    """
    temporaries: dict[Path, Path] = {}
    placed: list[Path] = []
    current = None
    try:
        for path, data in files.items():
            try:
                temporaries[path] = _temporary_copy(path, data)
            except OSError as error:
                raise ProjectError(
                    f"cannot write {path}: {error.strerror or error}; "
                    f"check that {path.parent} is a writable folder with free space"
                ) from None
        with _signals_held():
            try:
                for path, temporary in temporaries.items():
                    current = path
                    new = not path.exists()
                    temporary.replace(path)
                    if new:
                        placed.append(path)
            except OSError as error:
                for path in placed:
                    path.unlink(missing_ok=True)
                raise ProjectError(
                    f"cannot write {current}: {error.strerror or error}; nothing new was "
                    f"left in {current.parent} (check that {current.name} is not a folder)"
                ) from None
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
    for folder in {path.parent for path in files}:
        _sync_folder(folder)


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def model_stem(kind: str, parts: Sequence[str], commit: str | None, dirty: bool | None) -> str:
    """A short file name that says what made the model.

    For example ``mlp-digits-h64-lr0.01-ep20-bs32-t1-seed42-3f9c2ab``: the
    model kind, the data, every setting by its label, and the short commit
    (``nogit`` outside a repository, ``-dirty`` for uncommitted changes).
    """
    names = [kind, *(part for part in parts if part), commit[:7] if commit else "nogit"]
    return "-".join([*names, "dirty"] if dirty else names)


def free_stem(folder: Path, stem: str, suffix: str, weights_sha256: str) -> str:
    """``stem``, or ``stem-2``, ``stem-3``...: the first name that replaces no other model.

    A name is free when nothing stands there, or when the model there has the
    very same weights (training the same model again rewrites the same bytes).
    """
    for number in range(1, 10_000):
        candidate = stem if number == 1 else f"{stem}-{number}"
        if _holds_no_other_model(folder / candidate, suffix, weights_sha256):
            return candidate
    raise ProjectError(f"{folder} holds 9999 models named {stem}-N; move some elsewhere")


def _holds_no_other_model(base: Path, suffix: str, weights_sha256: str) -> bool:
    weights = base.with_name(base.name + suffix)
    manifest = base.with_name(base.name + ".json")
    if weights.exists() and not (weights.is_file() and sha256_file(weights) == weights_sha256):
        return False
    if manifest.exists():
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))["weights"]["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return recorded == weights_sha256
    return True


def _field(manifest: Mapping[str, Any], dotted: str) -> Any:
    value: Any = manifest
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def _what_there_is(folder: Path) -> str:
    """The advice for a manifest that is not there: the ones that are, or to train."""
    there = sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []
    if not there:
        return "train a model first: make train"
    shown = ", ".join(there[:3]) + (f" and {len(there) - 3} more" if len(there) > 3 else "")
    return f"{folder}/ holds {shown}"


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest, checked for the fields that predict relies on."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"manifest {path} not found; {_what_there_is(path.parent)}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"manifest {path} cannot be read: {error}") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProjectError(
            f"manifest {path} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); restore it from git, or retrain: make train"
        ) from None
    if not isinstance(manifest, dict):
        raise ProjectError(f"manifest {path} is not a JSON object; retrain: make train")
    for name in REQUIRED_FIELDS:
        try:
            value = _field(manifest, name)
        except KeyError:
            raise ProjectError(
                f"manifest {path} lacks the field {name!r}; it was not written by this "
                "project's train command or was edited; retrain: make train"
            ) from None
        kind = FIELD_TYPES.get(name)
        if kind is not None and not isinstance(value, kind):
            raise ProjectError(
                f"manifest {path}: the field {name!r} should be a {kind.__name__}, "
                f"not {value!r}; retrain: make train"
            )
    if manifest["format"] != MANIFEST_FORMAT:
        raise ProjectError(
            f"manifest {path} has format {manifest['format']!r}; this project reads "
            f"format {MANIFEST_FORMAT}; retrain: make train"
        )
    return manifest


def weights_path(manifest_path: Path, manifest: Mapping[str, Any], suffix: str) -> Path:
    """The weights file a manifest names: a plain file name beside the manifest."""
    name = manifest["weights"]["file"]
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(suffix):
        raise ProjectError(
            f"manifest {manifest_path}: weights.file {name!r} must be a file name ending "
            f"in {suffix}, beside the manifest; retrain: make train"
        )
    return manifest_path.with_name(name)


def read_weights(manifest_path: Path, manifest: Mapping[str, Any], suffix: str) -> bytes:
    """The weights' bytes, checked against the manifest's SHA-256.

    The bytes that were checked are the bytes that get loaded, so the file
    cannot change between the check and the load.
    """
    path = weights_path(manifest_path, manifest, suffix)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(
            f"model file {path} not found (named by {manifest_path}); "
            "restore it, or retrain: make train"
        ) from None
    except OSError as error:
        raise ProjectError(f"model file {path} cannot be read: {error.strerror or error}") from None
    actual = sha256_bytes(data)
    expected = manifest["weights"]["sha256"]
    if actual != expected:
        raise ProjectError(
            f"model file {path} does not match its manifest (sha256 {actual[:12]}..., "
            f"manifest {str(expected)[:12]}...); it was changed or damaged: "
            "restore the file, or retrain: make train"
        )
    return data


# How each weights format begins: a check that needs no framework.
_SAFETENSORS_HEADER_SIZE = 8


def check_format(data: bytes, weights_format: str, path: Path) -> None:
    """Refuse, before any framework is loaded, a file that is not in the expected format."""
    if weights_format == "safetensors":
        size = int.from_bytes(data[:_SAFETENSORS_HEADER_SIZE], "little")
        start = data[_SAFETENSORS_HEADER_SIZE : _SAFETENSORS_HEADER_SIZE + 1]
        valid = len(data) > _SAFETENSORS_HEADER_SIZE and size < len(data) and start == b"{"
    else:  # skops files are zip archives
        valid = data[:4] == b"PK\x03\x04"
    if not valid:
        raise ProjectError(
            f"model file {path} is not a {weights_format} file (pickles and other formats "
            "that can run code are never loaded); retrain: make train"
        )


def check_writable(folder: Path) -> None:
    """Refuse early, before any work, an output folder that cannot be written into."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        culprit = "it" if existing == folder else str(existing)
        raise ProjectError(f"cannot write into {folder}: {culprit} is not a writable folder")


def find_manifest(model: Path | None, models: Path, weights_suffix: str | None = None) -> Path:
    """The manifest that ``--model`` names: the manifest itself, the weights file
    beside it, or the model's name alone; the newest in ``models`` without it."""
    if model is None:
        return latest_manifest(models)
    # Model names hold dots (lr0.01), so only a known suffix is replaced: .json,
    # the framework's weights suffix, or that of a weights file with its manifest.
    beside = model.with_suffix(".json")
    if model.suffix in (".json", weights_suffix) or (model.is_file() and beside.is_file()):
        return beside
    if model.is_file():
        raise ProjectError(f"--model {model}: give a model's manifest (.json) or its weights file")
    return model.with_name(model.name + ".json")


def latest_manifest(models: Path) -> Path:
    """The manifest of the most recently trained model in a folder."""
    candidates = sorted(models.glob("*.json"))
    if not candidates:
        raise ProjectError(f"no model in {models}/; train one first: make train")
    finished = {path: str(read_manifest(path).get("finished_at", "")) for path in candidates}
    return max(candidates, key=lambda path: (finished[path], path.name))
