#!/usr/bin/env bash
# Create .venv from the locks and install this project into it.
#
# Every package comes from requirements.txt and requirements-dev.txt, checked
# against its sha256 hash; packages the locks do not list are removed.  A
# second run with unchanged locks does nothing.
#
# Variables:
#   PYTHON=/path/to/python  the interpreter (default: the first on PATH that
#                           is Python {{ cookiecutter.python_version }} or newer)
#   INSTALLER=uv|pip        uv is faster, pip is everywhere; both install the
#                           same files (default: uv when it is on PATH)
#   UV=/path/to/uv          the uv to use (default: the one on PATH)
{%- if cookiecutter.framework == "pytorch" %}
#   TORCH_INDEX_URL         the index that holds torch's CPU builds (default:
#                           PyTorch's CPU index); empty to use only your own
{%- endif %}
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
REQUIRED="{{ cookiecutter.python_version }}"
LOCKS=(requirements.txt requirements-dev.txt)
STAMP="$VENV/.locks.sha256"
# Run as a file in isolated mode (-I), so it works before the project is
# installed and no module beside it can shadow the standard library.
ENVCHECK="src/{{ cookiecutter.module_name }}/envcheck.py"
{%- if cookiecutter.framework == "pytorch" %}
TORCH_INDEX_URL=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}
{%- endif %}

fail() {
    echo "ERROR: $*" >&2
    exit 1
}

new_enough() {
    "$1" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$REQUIRED'.split('.'))))" 2>/dev/null
}

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3 "python$REQUIRED" python3.13 python3.12 python3.11 python; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        if new_enough "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# A venv whose interpreter was removed or is too old is rebuilt, not repaired.
venv_usable() {
    [ -x "$VENV/bin/python" ] && new_enough "$VENV/bin/python"
}

# What the venv was built from: the locks, the project's metadata and the
# interpreter.  Equal digests mean there is nothing to do.
fingerprint() {
    {
        cat "${LOCKS[@]}" pyproject.toml
        "$VENV/bin/python" -c "import sys; print(sys.version)"
    } | "$VENV/bin/python" -c "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
}

install_git_hook() {
    if [ -e .git ] && [ -f .pre-commit-config.yaml ] && [ ! -f .git/hooks/pre-commit ]; then
        "$VENV/bin/pre-commit" install --install-hooks >/dev/null
    fi
}

for lock in "${LOCKS[@]}"; do
    [ -f "$lock" ] || fail "$lock not found: restore it from git, or run \`make lock\`"
done

if venv_usable && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] &&
    "$VENV/bin/python" -I "$ENVCHECK" >/dev/null 2>&1; then
    install_git_hook
    echo "Up to date: $VENV matches ${LOCKS[*]}; nothing to do"
    exit 0
fi

if [ -n "${PYTHON:-}" ] && ! new_enough "$PYTHON"; then
    fail "PYTHON=$PYTHON is not Python $REQUIRED or newer (or does not run); point to one that is"
fi
if ! PY=$(find_python); then
    fail "this project needs Python $REQUIRED or newer, and none was found on PATH. Install it, or point to one: make setup PYTHON=/path/to/python$REQUIRED"
fi

case "${INSTALLER:-auto}" in
auto)
    if command -v "${UV:-uv}" >/dev/null 2>&1; then INSTALLER=uv; else INSTALLER=pip; fi
    ;;
uv)
    command -v "${UV:-uv}" >/dev/null 2>&1 ||
        fail "INSTALLER=uv, but ${UV:-uv} was not found: install uv, or use INSTALLER=pip"
    ;;
pip) ;;
*) fail "INSTALLER=$INSTALLER: use uv, pip or auto" ;;
esac

# Both installers take the exact pins with their hashes and never resolve:
# the lock already names every package.  Neither compiles bytecode ahead of
# time (a third of the venv's size); Python writes it on first import.
index_options=()
{%- if cookiecutter.framework == "pytorch" %}
if [ -n "$TORCH_INDEX_URL" ]; then
    index_options=(--extra-index-url "$TORCH_INDEX_URL")
    # That index also mirrors some of torch's dependencies, at fewer versions:
    # let uv, like pip, take each pinned file from whichever index has it.
    export UV_INDEX_STRATEGY=${UV_INDEX_STRATEGY:-unsafe-best-match}
fi
{%- endif %}
if [ "$INSTALLER" = uv ]; then
    UV=$(command -v "${UV:-uv}")
    install_pkgs() { "$UV" pip install --quiet --python "$VENV/bin/python" "$@"; }
    remove_pkgs() { "$UV" pip uninstall --quiet --python "$VENV/bin/python" "$@"; }
else
    install_pkgs() { "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile "$@"; }
    remove_pkgs() { "$VENV/bin/python" -m pip uninstall --quiet --yes "$@"; }
fi

if ! venv_usable; then
    rm -rf "$VENV"
    # uv needs no pip inside the venv, and leaving it out saves seconds.
    if [ "$INSTALLER" = uv ]; then
        "$PY" -m venv --without-pip "$VENV"
    else
        "$PY" -m venv "$VENV"
    fi
fi
if [ "$INSTALLER" = pip ] && ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    "$VENV/bin/python" -m ensurepip --default-pip >/dev/null
fi
rm -f "$STAMP"
install_pkgs --require-hashes --no-deps ${index_options[@]+"${index_options[@]}"} \
    -r requirements.txt -r requirements-dev.txt
# Packages from an older lock, or installed by hand, go: the venv holds the
# locks and nothing else.
extras=$("$VENV/bin/python" -I "$ENVCHECK" --extras)
if [ -n "$extras" ]; then
    # shellcheck disable=SC2086 # one name per word
    remove_pkgs $extras
fi
install_pkgs --no-deps --no-build-isolation --editable .
install_git_hook
fingerprint >"$STAMP"
echo "Ready: $VENV ($("$VENV/bin/python" --version), installed with $INSTALLER)"
