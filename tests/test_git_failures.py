"""Fast tier: when git refuses the first commit, the warning names the real cause."""

from __future__ import annotations

import os
import sys

from conftest import default_answers, render_hook, run


def _post_gen_with_git_config(project, config_text: str):
    config = project.parent / "gitconfig"
    config.write_text(config_text, encoding="utf-8")
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": str(config),
        "GNUPGHOME": str(project.parent / "gnupg-without-keys"),
    }
    script = render_hook("post_gen_project", default_answers(module_name="demo"), project.parent)
    done = run([sys.executable, script], cwd=project, env=env)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1, done.stderr
    assert not (project / ".git").exists()
    return warnings[0]


def test_commit_signing_without_a_key_is_named(small_project):
    warning = _post_gen_with_git_config(small_project, "[commit]\n\tgpgsign = true\n")
    assert "gpg failed to sign the data" in warning, warning
    assert "commit.gpgsign" in warning, warning


def test_ssh_signing_without_a_key_is_named_though_git_says_neither_gpg_nor_sign(small_project):
    config = "[commit]\n\tgpgsign = true\n[gpg]\n\tformat = ssh\n[user]\n\tsigningkey = /no/key\n"
    warning = _post_gen_with_git_config(small_project, config)
    assert "git commit failed: Couldn't load public key /no/key" in warning, warning
    assert "(commit.gpgsign is on: if git could not sign, give it a signing key" in warning


def test_git_that_cannot_start_is_named_with_the_command_that_tried(small_project):
    # A git whose interpreter is gone: found on PATH, but it cannot run.
    broken = small_project.parent / "broken-bin"
    broken.mkdir()
    (broken / "git").write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    (broken / "git").chmod(0o755)
    script = render_hook(
        "post_gen_project", default_answers(module_name="demo"), small_project.parent
    )
    # Alone on PATH: a command that fails to start is looked for further along it.
    env = {**os.environ, "PATH": str(broken)}
    done = run([sys.executable, script], cwd=small_project, env=env)
    assert done.returncode == 0, done.stderr
    assert "WARNING: git init could not start: " in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (small_project / ".git").exists()


def test_a_failing_global_hook_is_named(small_project):
    hooks = small_project.parent / "global-hooks"
    hooks.mkdir()
    hook = hooks / "prepare-commit-msg"  # runs even with --no-verify
    hook.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    # Neither a sample nor a script git cannot run is a hook that ran.
    (hooks / "commit-msg.sample").write_text("#!/bin/sh\n", encoding="utf-8")
    (hooks / "commit-msg.sample").chmod(0o755)
    (hooks / "pre-push").write_text("#!/bin/sh\n", encoding="utf-8")
    warning = _post_gen_with_git_config(small_project, f"[core]\n\thooksPath = {hooks}\n")
    assert "probably stopped it: prepare-commit-msg. " in warning, warning
    assert str(hooks) in warning, warning
    assert "commit.gpgsign" not in warning, warning


def test_a_hook_that_explains_itself_is_quoted_by_its_last_line(small_project):
    hooks = small_project.parent / "global-hooks"
    hooks.mkdir()
    hook = hooks / "prepare-commit-msg"
    hook.write_text(
        "#!/bin/sh\necho 'checking the message' >&2\necho 'checking the date' >&2\n"
        "echo 'policy: no commits today' >&2\nexit 1\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    warning = _post_gen_with_git_config(small_project, f"[core]\n\thooksPath = {hooks}\n")
    assert "git commit failed: policy: no commits today" in warning, warning
    assert "checking" not in warning, warning
