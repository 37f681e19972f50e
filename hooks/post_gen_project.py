"""Finish the generated project: drop unchosen files, record answers, commit.

cookiecutter runs this file as a script, inside the new project, after
rendering the two Jinja expressions below.  Nothing else here is templated.

Failures of git are never fatal: the project is still usable without a
repository, so the hook explains what happened, removes any half-made
``.git`` folder and exits 0.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
# Set by hooks/cruft_state.py when cruft runs this hook; {} otherwise.
CRUFT_RUN_JSON = r"""{{ cruft_run | default({}) | tojson }}"""
# Set by hooks/guard.py under cookiecutter's command line: a file to remove
# once the project is complete, so that an unfinished bake can be cleaned up.
BAKE_TOKEN = r"""{{ bake_token | default("") }}"""

ANSWERS_FILE = ".cookiecutter.json"
# Where pre_gen_project.py moved what the folder held before this bake (-f).
SET_ASIDE = ".cookiecutter-set-aside"
CRUFT_FILE = ".cruft.json"

# The one place that says which file belongs to which option.  A path listed
# under a value is removed unless that value was chosen (a path listed under
# several values stays when any of them is chosen).  "{module}" stands for
# the module name.
OPTION_FILES: dict[str, dict[str, list[str]]] = {
    "framework": {
        "scikit-learn": [
            "src/{module}/backends/sklearn_backend.py",
            "requirements/scikit-learn.in",
            "requirements/scikit-learn.txt",
        ],
        "pytorch": [
            "src/{module}/backends/torch_backend.py",
            "requirements/pytorch.in",
            "requirements/pytorch.txt",
        ],
        "tensorflow": [
            "src/{module}/backends/tf_backend.py",
            "requirements/tensorflow.in",
            "requirements/tensorflow.txt",
        ],
        "numpy": [
            "src/{module}/backends/numpy_backend.py",
            "requirements/numpy.in",
            "requirements/numpy.txt",
        ],
    },
    "license": {
        "MIT": ["LICENSE"],
        "BSD-3-Clause": ["LICENSE"],
        "Apache-2.0": ["LICENSE"],
        "none": [],
    },
    "ci": {
        "github": [".github", "requirements/cruft.in", "requirements/cruft.txt"],
        "gitlab": [".gitlab-ci.yml", "requirements/cruft.in", "requirements/cruft.txt"],
        "none": [],
    },
}

# Per-framework files that, once chosen, take their project-wide name.
CHOSEN_RENAMES = {
    "requirements/{framework}.in": "requirements.in",
    "requirements/{framework}.txt": "requirements.txt",
}

# The record holds the answers and, of the keys cookiecutter does not ask
# about (those starting with "_"), only these two.  The rest describe this
# machine, this run or the template's internals (its extensions, which files
# it copies unrendered): a replay should take them from the template, not
# from an old record.  So the record depends only on the answers and the
# release, and plain cookiecutter, cruft create and cruft's renders for update
# and diff all write the same file; an update changes it only where the
# template did.  "__answers_checked" is kept because a replay that lacked it
# would re-run the check on a partial set of answers and refuse them all.
RECORDED_PRIVATE_KEYS = ("_template_version", "__answers_checked")


def unchosen_paths(answers: dict) -> set[str]:
    keep: set[str] = set()
    drop: set[str] = set()
    for option, owners in OPTION_FILES.items():
        for value, paths in owners.items():
            target = keep if answers.get(option) == value else drop
            target.update(p.format(module=answers["module_name"]) for p in paths)
    return drop - keep


def remove_unchosen(project: Path, answers: dict) -> None:
    for relative in sorted(unchosen_paths(answers)):
        path = project / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for source, target in CHOSEN_RENAMES.items():
        chosen = project / source.format(framework=answers["framework"])
        if chosen.exists():
            chosen.replace(project / target)
    # Folders emptied by the removals above.
    for folder in ("requirements", ".github/workflows", ".github"):
        path = project / folder
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _merge_back(source: Path, target: Path) -> None:
    for entry in sorted(source.iterdir()):
        destination = target / entry.name
        if not destination.exists() and not destination.is_symlink():
            entry.replace(destination)
        elif _real_dir(entry) and _real_dir(destination):
            _merge_back(entry, destination)
        # Otherwise this bake wrote that path: -f asked for it to be overwritten.


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def restore_set_aside(project: Path) -> None:
    """Put back what the folder held before this bake, beside what it wrote.

    Run after the unchosen files are gone, so pruning never touches the
    user's files: with cookiecutter -f, only files this bake writes replace
    the user's.
    """
    kept = project / SET_ASIDE
    if _real_dir(kept):
        _merge_back(kept, project)
        shutil.rmtree(kept)


def remove_bytecode(project: Path) -> None:
    """Drop compiled Python files a template checkout may hold.

    Importing a template module (as its tests do) writes ``__pycache__``
    beside it; cookiecutter would copy that into the project and its commit.
    """
    for cache in sorted(project.rglob("__pycache__")):  # an inner one goes with its outer one
        if cache.is_dir():
            shutil.rmtree(cache)
    for compiled in project.rglob("*.py[co]"):
        compiled.unlink()


def record_answers(project: Path, answers: dict) -> None:
    """Write the answers in the shape of a cookiecutter replay file.

    ``cookiecutter --replay-file .cookiecutter.json <template>`` bakes the
    project again, and a newer template can be applied with the same answers.
    """
    recorded = {
        k: v for k, v in answers.items() if not k.startswith("_") or k in RECORDED_PRIVATE_KEYS
    }
    text = json.dumps({"cookiecutter": recorded}, indent=2, sort_keys=True, ensure_ascii=False)
    (project / ANSWERS_FILE).write_text(text + "\n", encoding="utf-8")


class GitError(Exception):
    pass


def _subcommand(args: tuple[str, ...]) -> str:
    """The git command that ``args`` run: ``init`` in ``-c init.defaultBranch=main init``."""
    rest = list(args)
    while rest[:1] == ["-c"]:
        rest = rest[2:]
    return rest[0]


def _git(project: Path, *args: str, env: dict | None = None) -> str:
    name = _subcommand(args)
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise GitError(f"git {name} could not start: {error}") from error
    if done.returncode != 0:
        cause = _failure_cause(project, done)
        if name == "commit" and _signing_on(project, env):
            # git names the signing program's failure in its own words (gpg,
            # ssh-keygen, gpgsm), or not at all: the setting is what they share.
            cause += (
                " (commit.gpgsign is on: if git could not sign, give it a signing key, "
                "or commit with git -c commit.gpgsign=false)"
            )
        raise GitError(f"git {name} failed: {cause}")
    return done.stdout.strip()


def _failure_cause(project: Path, done: subprocess.CompletedProcess) -> str:
    """What git said went wrong, on one line, or the likely cause when it said nothing.

    git ends with a generic "fatal: failed to write commit object"; the line
    that names the cause (a signing program, a lock) comes before it.
    """
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    said = [
        line.partition(":")[2].strip() for line in lines if line.startswith(("error:", "fatal:"))
    ]
    if said or lines:
        return "; ".join(dict.fromkeys(said)) if said else lines[-1]
    # A hook that fails without a word; --no-verify does not skip them all.
    try:
        hooks = Path(_git(project, "rev-parse", "--path-format=absolute", "--git-path", "hooks"))
        active = sorted(
            p.name for p in hooks.iterdir() if os.access(p, os.X_OK) and p.suffix != ".sample"
        )
    except (GitError, OSError):
        active = []
    if active:
        return (
            f"exit status {done.returncode} and no message; a git hook in {hooks} "
            f"probably stopped it: {', '.join(active)}"
        )
    return f"exit status {done.returncode} and no message"


def _signing_on(project: Path, env: dict | None) -> bool:
    try:
        return _git(project, "config", "--type=bool", "--get", "commit.gpgsign", env=env) == "true"
    except GitError:  # git exits 1 when it is not set
        return False


def _identity_env(project: Path, answers: dict) -> dict:
    """The environment for the first commit.

    A configured identity is respected.  Where there is none, the author
    answers sign this one commit, through the environment only: no git
    config file is written.
    """
    try:
        configured = _git(project, "config", "--get-regexp", r"^user\.(name|email)$")
    except GitError:  # git exits 1 when neither is set
        configured = ""
    keys = {line.split(" ", 1)[0] for line in configured.splitlines() if " " in line}
    env = dict(os.environ)
    for config_key, suffix, answer in (
        ("user.name", "NAME", "author_name"),
        ("user.email", "EMAIL", "author_email"),
    ):
        if config_key in keys:
            continue
        for role in ("AUTHOR", "COMMITTER"):
            env.setdefault(f"GIT_{role}_{suffix}", answers[answer])
    return env


def init_repository(project: Path, answers: dict) -> str:
    """Make the repository and its first commit; return the short commit id."""
    _git(project, "-c", "init.defaultBranch=main", "init", "--quiet")
    # Gits older than 2.28 ignore init.defaultBranch; pointing HEAD at main
    # works on every version.
    head = project / ".git" / "HEAD"
    if not head.is_file() or head.read_text(encoding="utf-8").strip() != "ref: refs/heads/main":
        _git(project, "symbolic-ref", "HEAD", "refs/heads/main")
    _git(project, "add", "--all")
    version = answers.get("_template_version", "unknown")
    message = (
        f"Start {answers['project_name']} from repro-template {version}\n\n"
        "Every generated file, as the template wrote it."
    )
    summary = _git(
        project,
        "commit",
        "--no-verify",
        "--message",
        message,
        env=_identity_env(project, answers),
    )
    # git prints "[main (root-commit) 1a2b3c4] Start ...": the id saves a process.
    found = re.search(r"\[[^\]]*?([0-9a-f]{7,})\]", summary.splitlines()[0] if summary else "")
    return found.group(1) if found else _git(project, "rev-parse", "--short", "HEAD")


def setup_git(project: Path, answers: dict) -> None:
    if not answers.get("init_git"):
        print(
            "NOTE: no git repository was made (init_git is no). Training, the git hook "
            "and make lint need one: run in the project git init -b main && git add -A "
            "&& git commit -m 'Start', then make setup",
            file=sys.stderr,
        )
        return
    if shutil.which("git") is None:
        print(
            "NOTE: git was not found, so the project has no repository yet. "
            "Install git, then run in the project: git init && git add -A && "
            "git commit -m 'Start from repro-template'",
            file=sys.stderr,
        )
        return
    if (project / ".git").exists():
        print("NOTE: the project folder is already a git repository; left as it is.")
        return
    try:
        commit = init_repository(project, answers)
    except GitError as error:
        shutil.rmtree(project / ".git", ignore_errors=True)
        print(
            f"WARNING: {error}. The project was written without a repository; "
            "fix git, then run: git init && git add -A && git commit -m 'Start'",
            file=sys.stderr,
        )
        return
    print(f"Created git repository on branch main with first commit {commit}.")


def prepare_for_cruft(project: Path, answers: dict, cruft_run: dict) -> bool:
    """Get ready for cruft; return whether the first commit may be made now.

    ``cruft create`` writes ``.cruft.json`` after this hook.  Writing the same
    bytes first lets the first commit hold the file, and leaves the tree clean
    when cruft rewrites it.  Any other cruft command renders into a throwaway
    folder to compute a diff, where a repository would only get in the way.
    """
    command = cruft_run.get("command")
    if command is None:
        return True
    if command != "create":
        return False
    if cruft_run.get("state") is None:
        if not answers.get("init_git"):
            return True  # no repository either way: setup_git says so as in any bake
        print(
            "NOTE: this cruft version's .cruft.json could not be predicted, so the "
            "project has no first commit yet. Once cruft has finished, run in the "
            "project: git init && git add -A && git commit -m 'Start from repro-template'",
            file=sys.stderr,
        )
        return False
    # Written exactly as cruft writes it: the platform's default encoding and newlines.
    (project / CRUFT_FILE).write_text(cruft_run["state"])
    return True


def finish(project: Path, answers: dict) -> None:
    try:
        remove_unchosen(project, answers)
        remove_bytecode(project)
    finally:
        restore_set_aside(project)
    record_answers(project, answers)
    if prepare_for_cruft(project, answers, json.loads(CRUFT_RUN_JSON)):
        setup_git(project, answers)


def main() -> int:
    # SIGTERM ends a process without running its finally blocks; exit instead.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        finish(Path.cwd(), json.loads(ANSWERS_JSON))
    except KeyboardInterrupt:
        return 130  # cookiecutter itself says the run was interrupted
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise
        print(
            f"ERROR: there is no space left to finish the project ({error.strerror}): "
            "free some space and run cookiecutter again",
            file=sys.stderr,
        )
        return 1
    if BAKE_TOKEN:
        Path(BAKE_TOKEN).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
