"""Fast tier: the template repository's own files keep their promises."""

from __future__ import annotations

import re

from conftest import BIN, TEMPLATE, run


def test_template_workflows_validate_against_the_github_schema():
    run(
        [
            BIN / "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            TEMPLATE / ".github" / "workflows" / "ci.yml",
            TEMPLATE / ".github" / "workflows" / "mutation.yml",
        ],
        cwd=TEMPLATE,
    )


def test_ci_runs_the_test_command_the_readme_opens_with():
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    opening = re.search(r"```bash\n(.*?)```", readme, re.DOTALL).group(1).splitlines()
    commands = [line.split("#")[0].strip() for line in opening]
    assert len(commands) == 2
    ci_script = (TEMPLATE / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci_script.splitlines()


def test_dev_requirements_pin_every_package_with_hashes():
    lock = (TEMPLATE / "requirements-dev.txt").read_text(encoding="utf-8")
    entries = re.findall(r"^([A-Za-z0-9._-]+)(==)?\S*", lock, re.MULTILINE)
    assert entries
    assert all(pinned for _, pinned in entries), entries
    requirement_blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[-1])
    assert all("--hash=sha256:" in block for block in requirement_blocks if "==" in block)
    wanted = (TEMPLATE / "requirements-dev.in").read_text(encoding="utf-8")
    direct = re.findall(r"^([A-Za-z0-9._-]+)==", wanted, re.MULTILINE)
    locked = {name.lower() for name, _ in entries}
    assert {name.lower() for name in direct} <= locked
