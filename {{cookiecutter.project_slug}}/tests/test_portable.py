"""Portable numerics: the same bits under every simulated x86-64-v3-or-newer CPU.

Other CPUs are simulated on this one through the libraries' own switches,
set in the caller's shell: NumPy's SIMD dispatch, PyTorch's kernel level,
oneDNN's and MKL's instruction sets.  (OpenBLAS's kernel is never forced
here: the manifest shows the one that ran.)  With ``portable = true`` the
commands override them all; with ``portable = false`` each simulated CPU
gives its own bits, which shows that the first test can fail.
"""

from __future__ import annotations

import json
import os

import pytest

from {{ cookiecutter.module_name }} import portable

from conftest import CONTRACT, TINY, command

CPU = portable.detect()
# What each simulated CPU's libraries would choose by themselves.
SIMULATED = {
    "this CPU": {},
    "an AVX2 CPU": {
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    },
    "an AVX-512 CPU": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
}

needs_x86_v3 = pytest.mark.skipif(
    CPU.level not in (portable.LEVEL, "x86-64-v4"),
    reason=f"the code-path pin needs an {portable.LEVEL} CPU; this one is {CPU.level}",
)


def train_under(workdir, name: str, *options: str) -> dict:
    # Under models/, which training writes to without making the tree dirty.
    out = f"models/{name.replace(' ', '-')}"
    done = command("train", *TINY, "--models-dir", out, *options, cwd=workdir, env=SIMULATED[name])
    assert done.returncode == 0, done.stderr
    (path,) = (workdir / out).glob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def results(manifest: dict) -> tuple[str, str]:
    return manifest["weights"]["sha256"], manifest["predictions"]["sha256"]


@pytest.mark.slow
@needs_x86_v3
def test_portable_training_gives_the_same_bits_under_every_simulated_cpu(workdir):
    manifests = {name: train_under(workdir, name) for name in SIMULATED}
    assert len({results(m) for m in manifests.values()}) == 1, {
        name: results(m) for name, m in manifests.items()
    }
    for manifest in manifests.values():
        paths = manifest["code_paths"]
        assert paths["pinned_level"] == portable.LEVEL
        assert paths["observed"]["numpy_simd"] == ["X86_V3"]
        for kernel in paths["observed"]["blas"]:
            if kernel["internal_api"] == "openblas":
                assert kernel["architecture"] == "Haswell", kernel
        capability = paths["observed"]["framework"].get("torch_cpu_capability")
        assert capability in (None, "AVX2")


@pytest.mark.slow
@pytest.mark.skipif(
    CPU.level != "x86-64-v4", reason="only an AVX-512 CPU can stand in for both kinds of CPU"
)
def test_native_training_runs_other_kernels_and_gives_other_bits_under_another_cpu(workdir):
    native = ("--set", "portable=false")
    manifests = {name: train_under(workdir, name, *native) for name in SIMULATED}
    observed = {json.dumps(m["code_paths"]["observed"], sort_keys=True) for m in manifests.values()}
    assert len(observed) > 1, "the simulated CPUs ran the same kernels"
    for manifest in manifests.values():
        assert manifest["code_paths"]["pinned_level"] is None
        assert manifest["code_paths"]["portable"] is False
    # A classifier's softmax runs NumPy's exp (or the framework's kernels), whose
    # bits follow the CPU; a small regression may happen to use none of them.
    if CONTRACT.task == "classification":
        assert len({results(m) for m in manifests.values()}) > 1


def test_training_warns_only_where_the_portable_pin_cannot_hold(trained):
    note = portable.warning(portable.pin(True, apply=False))
    warnings = [line for line in trained.errors.splitlines() if line.startswith("warning:")]
    assert warnings == ([f"warning: {note}"] if note else [])


def test_a_cpu_without_avx2_is_warned_and_left_to_its_own_kernels():
    old = portable.Cpu("x86_64", "an old CPU", frozenset({"sse4_2", "avx"}))
    pin = portable.pin(True, old, apply=False)
    assert not pin.applied and pin.variables == {}
    assert "lacks AVX2 or FMA" in portable.warning(pin)
    assert "will not match" in portable.warning(pin)


def test_another_architecture_is_told_what_the_promise_covers():
    arm = portable.Cpu("arm64", "Apple M2", None)
    pin = portable.pin(True, arm, apply=False)
    assert not pin.applied
    assert "x86-64 CPUs only" in portable.warning(pin)
    assert "arm64" in portable.warning(pin)


@needs_x86_v3
def test_the_pin_overrides_what_the_shell_asked_for():
    saved = dict(os.environ)
    try:
        os.environ.update({"NPY_DISABLE_CPU_FEATURES": "X86_V4", "ATEN_CPU_CAPABILITY": "avx512"})
        assert portable.pin(True).applied
        assert "NPY_DISABLE_CPU_FEATURES" not in os.environ
        assert os.environ["ATEN_CPU_CAPABILITY"] == "avx2"
        assert os.environ["NPY_ENABLE_CPU_FEATURES"] == "X86_V3"
    finally:
        os.environ.clear()
        os.environ.update(saved)
