#!/usr/bin/env bash
# Create .venv from the locks and install this project into it.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
REQUIRED="{{ cookiecutter.python_version }}"

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3 "python$REQUIRED" python3.13 python3.12 python3.11 python; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$REQUIRED'.split('.'))))" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if ! PY=$(find_python); then
    echo "ERROR: this project needs Python $REQUIRED or newer, and none was found on PATH." >&2
    echo "Install it, or point to one: make setup PYTHON=/path/to/python$REQUIRED" >&2
    exit 1
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps \
    -r requirements.txt -r requirements-dev.txt
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation --editable .
if [ -d .git ] && [ -f .pre-commit-config.yaml ]; then
    "$VENV/bin/pre-commit" install --install-hooks >/dev/null
fi
echo "Ready: $VENV ($("$VENV/bin/python" --version))"
