#!/usr/bin/env bash
# Regenerate the locks from the .in files: exact versions and hashes for
# every package, valid on every platform and supported Python version.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
for name in requirements requirements-dev; do
    "$UV" pip compile --universal --generate-hashes \
        --python-version "{{ cookiecutter.python_version }}" \
        --no-emit-index-url --no-emit-find-links --quiet \
        "$name.in" --output-file "$name.txt"
done
echo "Locked: requirements.txt requirements-dev.txt"
