"""Fast tier: bad surroundings and derived names get one clear line each."""

from __future__ import annotations

import subprocess

import pytest

from conftest import BIN, TEMPLATE, bake_cli, run


def test_existing_project_folder_is_refused_and_left_untouched(tmp_path):
    existing = tmp_path / "digits-classifier"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine\n", encoding="utf-8")
    done = bake_cli(tmp_path)
    assert done.returncode == 1
    assert "already exists" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]
    assert (existing / "notes.txt").read_text(encoding="utf-8") == "mine\n"


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a read-only mount: refused even to root, as on a real read-only disk."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "--bind", "-o", "ro", folder, folder], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", folder], check=True)


def test_read_only_output_folder_is_refused_before_anything_is_written(read_only_folder):
    # Run from elsewhere: the folder checked is --output-dir, not the one cookiecutter runs in.
    done = run(
        [BIN / "cookiecutter", "--no-input", "--output-dir", read_only_folder, TEMPLATE],
        cwd=read_only_folder.parent,
        check=False,
    )
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "ERROR: output folder" in output
    # The system's reason in its own words, without the errno and the probe file's path.
    assert "cannot be written (Read-only file system): choose another" in output
    assert "Traceback" not in output
    assert list(read_only_folder.iterdir()) == []


def test_a_read_only_project_folder_reused_with_f_is_refused(read_only_folder):
    # -f reuses the folder; cookiecutter used to stop in it half-way, with a traceback.
    done = bake_cli(read_only_folder.parent, "-f", f"project_slug={read_only_folder.name}")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    assert f"ERROR: project_slug 'read-only': the folder {read_only_folder} cannot be written" in (
        output
    )
    assert "(Read-only file system): make it writable" in output
    assert list(read_only_folder.iterdir()) == []


@pytest.mark.parametrize(
    ("project_name", "field", "words"),
    [
        ("123 Go", "module_name", "starting with a letter"),
        ("Class", "module_name", "Python keyword"),
        ("Random", "module_name", "shadow"),
        ("NumPy", "module_name", "shadow"),
        ("🙂🙂", "project_slug", "empty"),
        ("x" * 101, "project_name", "at most 100"),
    ],
)
def test_a_bad_derived_name_names_the_field_to_set(tmp_path, project_name, field, words):
    done = bake_cli(tmp_path, f"project_name={project_name}")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors, done.stderr
    assert errors[0].startswith(f"ERROR: {field}")
    assert words in errors[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("project_name", "slug"),
    [
        ("数字识别", "shu-zi-shi-bie"),
        ("Ελληνικά", "ellenika"),
        ("Crème Brûlée", "creme-brulee"),
    ],
)
def test_non_ascii_names_get_a_transliterated_slug(tmp_path, project_name, slug):
    done = bake_cli(tmp_path, f"project_name={project_name}", "init_git=no")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / slug / "src" / slug.replace("-", "_") / "__init__.py").is_file()
