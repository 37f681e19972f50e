"""Create .venv from the locks and install this project into it.

Run it with any Python 3 (`python scripts/setup_venv.py`, or `make setup`):
it needs the standard library only, and works on Linux, macOS and Windows.

Every package comes from requirements.txt and requirements-dev.txt, checked
against its sha256 hash; packages the locks do not list are removed.  A
second run with unchanged locks does nothing; when a lock changed, every
package whose pin or hashes changed is installed again and checked against
the new hashes.  A venv made for another folder (the project was copied or
moved) or from another interpreter than PYTHON names is made anew: its
scripts and its editable install point there.

Variables:
  PYTHON=/path/to/python  the interpreter (default: the first on PATH that
                          is Python {{ cookiecutter.python_version }} or newer); a .venv made
                          from another one is rebuilt with it
  INSTALLER=uv|pip        uv is faster, pip is everywhere; both install the
                          same files (default: uv when it is on PATH)
  UV=/path/to/uv          the uv to use (default: the one on PATH)
  INSTALL_GIT_HOOK=0      install no git hook (default: install pre-commit's
                          hook when .git is a folder that has none yet)
{%- if cookiecutter.framework == "pytorch" %}
  TORCH_INDEX_URL         the index that holds torch's CPU builds (default:
                          PyTorch's CPU index); empty to use only your own
{%- endif %}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

REQUIRED = "{{ cookiecutter.python_version }}"
LOCKS = ("requirements.txt", "requirements-dev.txt")
# Run as a file in isolated mode (-I), so it works before the project is
# installed and no module beside it can shadow the standard library.
ENVCHECK = "src/{{ cookiecutter.module_name }}/envcheck.py"
# The project folder the venv was made for, the digest of what it was built
# from, and each locked package's pin and hashes as installed.
MADE_FOR = ".project-root"
STAMP = ".locks.sha256"
INSTALLED = ".locked-hashes.json"
{%- if cookiecutter.framework == "pytorch" %}
TORCH_INDEX_URL = os.environ.get("TORCH_INDEX_URL", "https://download.pytorch.org/whl/cpu")
{%- else %}
TORCH_INDEX_URL = ""
{%- endif %}
# How long the index may take to answer before set-up says it cannot reach it.
PROBE_SECONDS = 10


class Failure(Exception):
    """A problem the user can fix: printed as one line, exit code 1."""


def is_windows_layout(venv: Path) -> bool:
    """A venv made by a Windows Python keeps its programs in Scripts, not bin."""
    if (venv / "Scripts").is_dir() and not (venv / "bin").is_dir():
        return True
    return not venv.exists() and os.name == "nt"


def venv_bin(venv: Path, windows: bool | None = None) -> Path:
    """The folder of the venv's programs: Scripts on Windows, bin elsewhere."""
    if windows is None:
        windows = is_windows_layout(venv)
    return venv / ("Scripts" if windows else "bin")


def venv_python(venv: Path, windows: bool | None = None) -> Path:
    """The venv's interpreter: .venv/bin/python, or .venv\\Scripts\\python.exe."""
    if windows is None:
        windows = is_windows_layout(venv)
    return venv_bin(venv, windows) / ("python.exe" if windows else "python")


def same_folder(a: Path, b: Path) -> bool:
    """Whether two paths name one folder (case and links as the system sees them)."""
    try:
        return a.samefile(b)
    except OSError:
        return False


def quiet(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        return subprocess.CompletedProcess(command, 127, "", str(error))


def new_enough(python: str) -> bool:
    check = f"import sys; sys.exit(sys.version_info < {tuple(map(int, REQUIRED.split('.')))})"
    return quiet([python, "-c", check]).returncode == 0


def find_python() -> str | None:
    candidates = [os.environ.get("PYTHON", ""), "python3", f"python{REQUIRED}"]
    candidates += ["python3.13", "python3.12", "python3.11", "python"]
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found and new_enough(found):
            return found
    # Last, the one running this (Windows' `py scripts/setup_venv.py`).
    return sys.executable if new_enough(sys.executable) else None


def interpreter(python: str) -> str:
    """Which interpreter a python is, as a venv made from it runs it."""
    show = "import sys; print(sys.version, sys.base_prefix, getattr(sys, 'abiflags', ''))"
    done = quiet([python, "-c", show])
    return done.stdout if done.returncode == 0 else ""


def why_rebuild(venv: Path, root: Path) -> str:
    """Why the venv must be made anew; empty when it can be kept."""
    if not venv.exists():
        return ""
    python = venv_python(venv)
    if not python.is_file() or not new_enough(str(python)):
        return "its Python is missing, too old or does not run"
    made_for = ""
    record = venv / MADE_FOR
    if record.is_file():
        lines = record.read_text(encoding="utf-8", errors="replace").splitlines()
        made_for = lines[0] if lines else ""
    if not made_for:
        return "it does not record the project folder it was made for"
    if made_for != str(root):
        return f"it was made for {made_for}, not for {root}"
    chosen = os.environ.get("PYTHON", "")
    if chosen and interpreter(chosen) != interpreter(str(python)):
        return f"PYTHON={chosen} is not the interpreter it was made from"
    return ""


def fingerprint(venv: Path) -> str:
    """What the venv was built from: the locks, the project's metadata and the interpreter."""
    digest = hashlib.sha256()
    for name in (*LOCKS, "pyproject.toml"):
        digest.update(Path(name).read_bytes())
    version = subprocess.run(
        [str(venv_python(venv)), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        check=True,
    )
    digest.update(version.stdout.replace(b"\r\n", b"\n"))
    return digest.hexdigest()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_entries(names: tuple[str, ...] = LOCKS) -> dict[str, list[str]]:
    """Each requirement of the locks (pin and marker) -> its sorted hashes."""
    entries: dict[str, list[str]] = {}
    for name in names:
        text = Path(name).read_text(encoding="utf-8")
        for line in text.replace("\\\r\n", " ").replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if re.match(r"[A-Za-z0-9]", line):
                requirement = " ".join(re.sub(r"--hash=\S+", "", line).split())
                entries[requirement] = sorted(re.findall(r"--hash=(\S+)", line))
    return entries


def read_installed(venv: Path) -> dict[str, list[str]]:
    """The requirements and hashes the venv was last installed from; {} if unknown."""
    try:
        found = json.loads((venv / INSTALLED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def installed_versions(python: str) -> dict[str, str]:
    show = (
        "import importlib.metadata as m\n"
        "for d in m.distributions(): print(d.metadata['Name'], d.version)"
    )
    lines = quiet([python, "-I", "-c", show]).stdout.splitlines()
    return {canonical(line.split()[0]): line.split()[-1] for line in lines if " " in line}


def to_check_again(venv: Path, locked: dict[str, list[str]]) -> list[str]:
    """The lock's requirements that the venv holds, but not from these hashes.

    An installer takes a package installed at the pinned version as it is,
    without looking at the hashes: so a package whose lock entry changed, or
    that no record shows was installed from these hashes, is installed again
    to be checked.
    """
    record = read_installed(venv)
    versions = installed_versions(str(venv_python(venv)))
    again = []
    for requirement, hashes in locked.items():
        pin = re.match(r"([^=;\s]+)\s*==\s*([^;\s]+)", requirement)
        if record.get(requirement) == hashes or pin is None:
            continue
        if versions.get(canonical(pin.group(1))) == pin.group(2):
            again.append(requirement)
    return again


def as_requirement(requirement: str, hashes: list[str]) -> str:
    """One requirements-file line, with its --hash options."""
    return requirement + "".join(f" --hash={digest}" for digest in hashes) + "\n"


def probe_index(url: str) -> None:
    """Fail within seconds when the extra index cannot be reached, not after pip's retries."""
    request = urllib.request.Request(url.rstrip("/") + "/", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=PROBE_SECONDS):
            pass
    except urllib.error.HTTPError:
        return  # it answered
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise Failure(
            f"cannot reach {url} (TORCH_INDEX_URL, the index of torch's CPU builds): {reason}. "
            "Check the network or proxy (HTTPS_PROXY), or, if your own index or pip "
            "configuration serves torch's CPU build, set TORCH_INDEX_URL= (empty)"
        ) from None


def git_hook_wanted(refresh: bool) -> bool:
    """Only where .git is a folder: in a `git worktree` it is a file, and
    pre-commit would write the hook of the main checkout.  After a rebuild, a
    hook that pre-commit made is made anew: in a copied project it still runs
    the pre-commit of the original's venv."""
    if os.environ.get("INSTALL_GIT_HOOK", "1") == "0":
        return False
    if not Path(".git").is_dir() or not Path(".pre-commit-config.yaml").is_file():
        return False
    hook = Path(".git", "hooks", "pre-commit")
    if hook.is_file():
        made_by_us = "File generated by pre-commit" in hook.read_text(errors="replace")
        return refresh and made_by_us
    return True


def run(command: list[str], **options) -> None:
    """Run a step; its own output explains a failure, and set-up stops with its exit code."""
    try:
        done = subprocess.run(command, check=False, **options)
    except OSError as error:
        raise Failure(f"cannot run {command[0]}: {error.strerror}") from None
    if done.returncode != 0:
        raise SystemExit(done.returncode)


def choose_installer() -> tuple[str, str]:
    uv_name = os.environ.get("UV") or "uv"
    choice = os.environ.get("INSTALLER") or "auto"
    uv = shutil.which(uv_name)
    if choice == "auto":
        return ("uv", uv) if uv else ("pip", "")
    if choice == "uv":
        if not uv:
            raise Failure(
                f"INSTALLER=uv, but {uv_name} was not found: install uv, or use INSTALLER=pip"
            )
        return "uv", uv
    if choice == "pip":
        return "pip", ""
    raise Failure(f"INSTALLER={choice}: use uv, pip or auto")


def setup() -> int:
    os.chdir(Path(__file__).resolve().parent.parent)
    venv = Path(os.environ.get("VENV") or ".venv")
    root = Path.cwd().resolve()
    for lock in LOCKS:
        if not Path(lock).is_file():
            raise Failure(f"{lock} not found: restore it from git, or run `make lock`")
    locked = locked_entries()

    rebuild = why_rebuild(venv, root)
    stamp = venv / STAMP
    if (
        venv.exists()
        and not rebuild
        and stamp.is_file()
        and stamp.read_text(encoding="utf-8").strip() == fingerprint(venv)
        and quiet([str(venv_python(venv)), "-I", ENVCHECK]).returncode == 0
    ):
        if not read_installed(venv):
            # The digest shows these locks were installed, with their hashes.
            (venv / INSTALLED).write_text(json.dumps(locked, indent=0), encoding="utf-8")
        install_git_hook(venv, refresh=False)
        print(f"Up to date: {venv} matches {' '.join(LOCKS)}; nothing to do")
        return 0

    chosen = os.environ.get("PYTHON", "")
    if chosen and not new_enough(chosen):
        raise Failure(
            f"PYTHON={chosen} is not Python {REQUIRED} or newer (or does not run); "
            "point to one that is"
        )
    python = find_python()
    if python is None:
        raise Failure(
            f"this project needs Python {REQUIRED} or newer, and none was found on PATH. "
            f"Install it, or point to one: make setup PYTHON=/path/to/python{REQUIRED}"
        )
    # The python found may be this venv's own (an activated venv is first on
    # PATH), which the rebuild removes: make the new venv from the one behind it.
    if same_folder(Path(python).parent, venv_bin(venv)):
        python = quiet([python, "-c", "import sys; print(sys._base_executable)"]).stdout.strip()

    installer, uv = choose_installer()
    # A kept venv may hold packages whose lock entry changed only in its
    # hashes; a new one is installed, and so checked, in full.
    again = [] if rebuild or not venv.exists() else to_check_again(venv, locked)
    # Both installers take the exact pins with their hashes and never resolve:
    # the lock already names every package.  Neither compiles bytecode ahead of
    # time (a third of the venv's size); Python writes it on first import.
    index_options: list[str] = []
    if TORCH_INDEX_URL:
        probe_index(TORCH_INDEX_URL)
        index_options = ["--extra-index-url", TORCH_INDEX_URL]
        # That index also mirrors some of torch's dependencies, at fewer
        # versions: let uv, like pip, take each pinned file from whichever
        # index has it.
        os.environ.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")

    if rebuild or not venv.exists():
        if rebuild:
            print(f"Making {venv} anew: {rebuild}", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        # uv needs no pip inside the venv, and leaving it out saves seconds.
        run([python, "-m", "venv", *(["--without-pip"] if installer == "uv" else []), str(venv)])
        (venv / MADE_FOR).write_text(f"{root}\n", encoding="utf-8")
    vpython = str(venv_python(venv))
    if installer == "pip" and quiet([vpython, "-m", "pip", "--version"]).returncode != 0:
        run([vpython, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)

    if installer == "uv":
        install = [uv, "pip", "install", "--quiet", "--python", vpython]
        reinstall = ["--reinstall"]
        remove = [uv, "pip", "uninstall", "--quiet", "--python", vpython]
    else:
        install = [vpython, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        install.append("--no-compile")
        reinstall = ["--force-reinstall"]
        remove = [vpython, "-m", "pip", "uninstall", "--quiet", "--yes"]

    stamp.unlink(missing_ok=True)
    hashed = [*install, "--require-hashes", "--no-deps", *index_options]
    run([*hashed, "-r", "requirements.txt", "-r", "requirements-dev.txt"])
    if again:
        # Installed before under the same pin: installed again, so that the
        # installer checks its files against the lock's hashes.
        with tempfile.TemporaryDirectory() as folder:
            changed = Path(folder, "changed.txt")
            lines = [as_requirement(requirement, locked[requirement]) for requirement in again]
            changed.write_text("".join(lines), encoding="utf-8")
            run([*hashed, *reinstall, "-r", str(changed)])
    # Packages from an older lock, or installed by hand, go: the venv holds
    # the locks and nothing else.
    extras = quiet([vpython, "-I", ENVCHECK, "--extras"]).stdout.split()
    if extras:
        run([*remove, *extras])
    run([*install, "--no-deps", "--no-build-isolation", "--editable", "."])
    install_git_hook(venv, refresh=bool(rebuild))
    (venv / INSTALLED).write_text(json.dumps(locked, indent=0), encoding="utf-8")
    stamp.write_text(fingerprint(venv) + "\n", encoding="utf-8")
    version = quiet([vpython, "--version"]).stdout.strip()
    print(f"Ready: {venv} ({version}, installed with {installer})")
    return 0


def install_git_hook(venv: Path, refresh: bool) -> None:
    if git_hook_wanted(refresh):
        command = [str(venv_python(venv)), "-m", "pre_commit", "install", "--install-hooks"]
        run(command, stdout=subprocess.DEVNULL)


def main() -> int:
    try:
        return setup()
    except Failure as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("set-up interrupted; run it again to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
