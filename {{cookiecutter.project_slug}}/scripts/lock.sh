#!/usr/bin/env bash
# Regenerate the locks from the .in files: exact versions and sha256 hashes
# for every package, valid on Linux, macOS and Windows and for every Python
# this project supports.  Pins already in a lock are kept unless UPGRADE=1.
#
# Variables:
#   UV=/path/to/uv    the lock tool (default: .venv/bin/uv, pinned in
#                     requirements-dev.txt; another version is refused)
#   UPGRADE=1         move every pin to the newest version the .in allows
#   UPGRADE_PACKAGES="a b"  re-resolve only these packages (and their hashes)
{%- if cookiecutter.framework == "pytorch" %}
#   TORCH_INDEX_URL   the index that holds torch's CPU builds (default:
#                     PyTorch's CPU index); empty to use only your own indexes
{%- endif %}
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
PYTHON_FLOOR="{{ cookiecutter.python_version }}"
OPTIONS=(--universal --generate-hashes --python-version "$PYTHON_FLOOR"
    --no-emit-index-url --no-emit-find-links --no-header --quiet)
if [ "${UPGRADE:-0}" = 1 ]; then
    OPTIONS+=(--upgrade)
fi
for package in ${UPGRADE_PACKAGES:-}; do
    OPTIONS+=(--upgrade-package "$package")
done
{%- if cookiecutter.framework == "pytorch" %}
TORCH_INDEX_URL=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}
{%- endif %}

fail() {
    echo "ERROR: $*" >&2
    exit 1
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

command -v "$UV" >/dev/null 2>&1 ||
    fail "uv not found at $UV: run \`make setup\` first, or give one: make lock UV=/path/to/uv"
pinned=$(sed -n 's/^uv==\([^ ;]*\).*/\1/p' requirements-dev.txt)
version=$("$UV" --version | cut -d' ' -f2)
if [ -n "$pinned" ] && [ "$version" != "$pinned" ]; then
    fail "$UV is uv $version, but requirements-dev.txt pins uv $pinned: run \`make setup\` to install it"
fi

# A lock is written whole or not at all: the work happens in a temporary file.
work=""
trap 'rm -f "$work" "$work.new"' EXIT

lock() {
    local name=$1
    shift
    [ -f "$name.in" ] || fail "$name.in not found: it lists the packages to lock"
    work=$(mktemp "$name.txt.XXXXXX")
    # The current lock seeds the new one, so unchanged pins stay as they are.
    if [ -f "$name.txt" ]; then
        cp "$name.txt" "$work"
    fi
    if ! "$UV" pip compile "${OPTIONS[@]}" "$@" "$name.in" --output-file "$work"; then
        fail "could not lock $name.in; its requirements are shown above"
    fi
    {
        echo "# The lock of $name.in, made by \`make lock\` with uv $version: every"
        echo "# package pinned with its sha256 hashes, for Linux, macOS and Windows"
        echo "# and Python >= $PYTHON_FLOOR.  Edit $name.in, never this file."
        echo "# $name.in sha256: $(sha256_of "$name.in")"
        cat "$work"
    } >"$work.new"
    mv "$work.new" "$name.txt"
    rm -f "$work"
}

{% if cookiecutter.framework == "pytorch" -%}
if [ -n "$TORCH_INDEX_URL" ]; then
    # That index also mirrors some of torch's dependencies, at fewer versions:
    # every index is searched for the best version, as pip does.
    lock requirements --extra-index-url "$TORCH_INDEX_URL" --index-strategy unsafe-best-match
else
    lock requirements
fi
{%- else -%}
lock requirements
{%- endif %}
lock requirements-dev
echo "Locked: requirements.txt requirements-dev.txt (uv $version)"
