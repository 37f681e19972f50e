"""Fast tier: a bake that cannot finish leaves nothing half-made behind.

A full disk is simulated with a file size limit (RLIMIT_FSIZE), which makes
writes fail the way a full disk does; an interruption is a real SIGINT or
SIGTERM sent to the whole process group while the post-gen hook runs git.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time

import pytest

from conftest import BIN, TEMPLATE, bake_cli


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _one_error_line(output: str) -> str:
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output
    return errors[0]


def test_a_full_disk_leaves_no_half_made_project(tmp_path):
    done = subprocess.run(
        [BIN / "cookiecutter", "--no-input", "--output-dir", tmp_path, TEMPLATE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(100_000),  # the bundled data set is larger
        check=False,
    )
    assert done.returncode != 0
    error = _one_error_line(done.stdout + done.stderr)
    assert "space" in error, error
    assert list(tmp_path.iterdir()) == []
    again = bake_cli(tmp_path)
    assert again.returncode == 0, again.stderr


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(
    not os.path.exists("/dev/full"), reason="needs /dev/full, a device that is always full"
)
def test_a_full_disk_inside_the_post_gen_hook_gets_one_line(tmp_path):
    # With -f, what the folder held is put back before the hook records the
    # answers: a .cookiecutter.json that leads to /dev/full makes that write
    # fail as on a full disk.
    project = tmp_path / "digits-classifier"
    project.mkdir()
    (project / ".cookiecutter.json").symlink_to("/dev/full")
    done = bake_cli(tmp_path, "--overwrite-if-exists")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert (
        "ERROR: there is no space left to finish the project (No space left on device): "
        "free some space and run cookiecutter again"
    ) in done.stderr
    assert "exit status: 1" in done.stdout + done.stderr


def test_an_error_that_is_not_a_full_disk_is_not_called_one(tmp_path):
    # cookiecutter writes its replay file before the project: here that path is a folder.
    replay = tmp_path / "replay"
    (replay / f"{TEMPLATE.name}.json").mkdir(parents=True)
    config = tmp_path / "config.yaml"
    config.write_text(f'replay_dir: "{replay}"\n', encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [
            BIN / "cookiecutter",
            "--no-input",
            "--config-file",
            config,
            "--output-dir",
            out,
            TEMPLATE,
        ],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "IsADirectoryError" in done.stderr, done.stderr
    assert "no space left" not in done.stdout + done.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_post_gen_hook_leaves_no_half_made_project(tmp_path, signum):
    out = tmp_path / "out"
    out.mkdir()
    # git writes its trace to a FIFO, so the hook's first git command waits,
    # inside the post-gen hook, until the test has sent the signal.
    fifo = tmp_path / "git-trace"
    os.mkfifo(fifo)
    env = {**os.environ, "GIT_TRACE": str(fifo)}
    bake = subprocess.Popen(
        [BIN / "cookiecutter", "--no-input", "--output-dir", out, TEMPLATE],
        cwd=out,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As from a terminal, where Ctrl-C stops a program: a shell that runs
        # the tests in the background has its children ignore SIGINT.
        preexec_fn=_default_sigint,
    )
    record = out / "digits-classifier" / ".cookiecutter.json"
    deadline = time.monotonic() + 60
    while not record.exists() and time.monotonic() < deadline and bake.poll() is None:
        time.sleep(0.02)
    assert record.exists(), "the post-gen hook never started"
    time.sleep(0.3)  # git is now waiting to open the FIFO
    os.killpg(bake.pid, signum)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # let any waiting git go
    try:
        stdout, stderr = bake.communicate(timeout=60)
    finally:
        os.close(reader)
    # Ctrl-C: cookiecutter's own "Aborted!" and exit 1; SIGTERM: 128 + its
    # number, what a shell reports for a program a signal ended.
    expected = 1 if signum == signal.SIGINT else 128 + signum
    assert bake.returncode == expected, stdout + stderr
    error = _one_error_line(stdout + stderr)
    assert "interrupted" in error, error
    assert list(out.iterdir()) == []
    again = bake_cli(out)
    assert again.returncode == 0, again.stderr


def test_a_bake_through_the_python_api_leaves_the_callers_process_as_it_was(tmp_path):
    # The watch (atexit clean-up, SIGTERM as an exit, a disk-full excepthook)
    # is for cookiecutter's own command; a program that calls cookiecutter()
    # keeps its signal handlers and excepthook, and its files at exit.
    script = (
        "import signal, sys\n"
        "from cookiecutter.main import cookiecutter\n"
        f"cookiecutter({str(TEMPLATE)!r}, no_input=True, output_dir={str(tmp_path)!r})\n"
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,"
        " sys.excepthook is sys.__excepthook__)\n"
    )
    done = subprocess.run(
        [BIN / "python", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["True", "True"]
    assert (tmp_path / "digits-classifier" / ".git").is_dir()
