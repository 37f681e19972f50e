"""Portable numerics: one CPU code path on every x86-64 machine, so that a model's bits travel.

BLAS libraries, NumPy and the frameworks pick their kernels by the CPU they
find: an AVX-512 machine sums in another order than an AVX2 one, and the
weights differ in their last bits.  With ``portable = true`` (the default)
every such choice is pinned to one level, x86-64-v3 (AVX2 and FMA, nearly
every x86-64 CPU since about 2015), through the switches the libraries read
when they load:

- OpenBLAS: ``OPENBLAS_CORETYPE=Haswell``, its AVX2 kernels;
- NumPy: ``NPY_ENABLE_CPU_FEATURES=X86_V3``, its SIMD loops at that level;
- PyTorch: ``ATEN_CPU_CAPABILITY=avx2``;
- oneDNN (TensorFlow's and PyTorch's kernels): ``ONEDNN_MAX_CPU_ISA=AVX2``;
- MKL (PyTorch's BLAS): ``MKL_CBWR=COMPATIBLE``.  MKL honours its AVX2
  branch on Intel CPUs only and picks its own kernels on AMD ones; its
  compatible branch gives the same bits on both.

So the same commit, lock, seed and thread count give the same bits on every
x86-64-v3 CPU, Intel or AMD.  What a value set in the caller's shell would
choose is overridden.

A CPU without AVX2 or FMA would crash on those kernels, so it is left to its
own choice, with a warning that its results will not match.  Other
architectures (arm64 Macs and servers) have no such switches: there the
promise holds between machines of the same kind only.

Some libraries also size their blocks by the CPU's caches (Eigen, oneDNN's
JIT), which no switch pins; the manifest records the CPU model and cache
sizes so that such a difference can be explained.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEVEL = "x86-64-v3"
X86_MACHINES = ("x86_64", "amd64", "x64")

# What a CPU needs for the pinned kernels: the x86-64-v3 features, by the
# names Linux gives them in /proc/cpuinfo (``abm`` is LZCNT).
V3_FLAGS = frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe", "abm", "xsave"})
V4_FLAGS = frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})
# macOS names some of them otherwise (sysctl machdep.cpu.*features).
MACOS_NAMES = {"avx1.0": "avx", "lzcnt": "abm"}
# Windows' IsProcessorFeaturePresent: AVX2 (it comes with FMA on every CPU
# that has it) and AVX-512F.
WINDOWS_AVX2, WINDOWS_AVX512F = 40, 41

PINS = {
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
}
# NumPy takes a list of features to enable or one to disable, never both.
NUMPY_ENABLE, NUMPY_DISABLE = "NPY_ENABLE_CPU_FEATURES", "NPY_DISABLE_CPU_FEATURES"
# NumPy 2.4 grouped its x86 features by level; older releases name each one.
NUMPY_V3 = {True: "X86_V3", False: "SSE SSE2 SSE3 SSSE3 SSE41 POPCNT SSE42 AVX F16C FMA3 AVX2"}

# Every variable that selects a CPU code path; the manifest records each one.
VARIABLES = (*PINS, "MKL_ENABLE_INSTRUCTIONS", NUMPY_ENABLE, NUMPY_DISABLE, "TF_ENABLE_ONEDNN_OPTS")


@dataclass(frozen=True)
class Cpu:
    """What decides the kernels: the architecture and, on x86-64, the features."""

    machine: str
    model: str
    flags: frozenset[str] | None  # None: could not be read
    caches: dict[str, str] = field(default_factory=dict)

    @property
    def x86(self) -> bool:
        return self.machine.lower() in X86_MACHINES

    @property
    def level(self) -> str:
        """The highest x86-64 level this CPU reaches, or the architecture's name."""
        if not self.x86:
            return self.machine
        if self.flags is None:
            return "x86-64 (features unknown)"
        if not self.flags >= V3_FLAGS:
            return "x86-64 below v3"
        return "x86-64-v4" if self.flags >= V4_FLAGS else LEVEL


@dataclass(frozen=True)
class Pin:
    """What was pinned in this process, and why."""

    requested: bool
    applied: bool
    cpu: Cpu
    variables: dict[str, str]
    note: str

    def record(self) -> dict[str, Any]:
        """The manifest's ``code_paths``, less what only the trained process can observe."""
        return {
            "portable": self.requested,
            "pinned_level": LEVEL if self.applied else None,
            "cpu_level": self.cpu.level,
            "cpu_model": self.cpu.model,
            "cpu_caches": self.cpu.caches,
            "pins": self.variables,
            "note": self.note,
        }


def _linux_cpu() -> tuple[str, frozenset[str] | None, dict[str, str]]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", None, {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            if fields:
                break  # the first processor is enough
            continue
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags")
    return fields.get("model name", ""), frozenset(flags.split()) if flags else None, _caches()


def _caches() -> dict[str, str]:
    """The first core's cache sizes, by level and type (Linux's sysfs)."""
    caches = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        with contextlib.suppress(OSError):
            level, kind, size = (
                (index / name).read_text(encoding="utf-8").strip()
                for name in ("level", "type", "size")
            )
            suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
            caches[f"L{level}{suffix}"] = size
    return caches


def _macos_cpu() -> tuple[str, frozenset[str] | None, dict[str, str]]:
    keys = ("machdep.cpu.features", "machdep.cpu.leaf7_features", "machdep.cpu.extfeatures")
    try:
        features = subprocess.run(
            ["sysctl", "-n", *keys], capture_output=True, text=True, check=False, timeout=10
        ).stdout
        model = subprocess.run(
            ["sysctl", "-n", "machdep.cpu.brand_string"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "", None, {}
    names = {MACOS_NAMES.get(name, name) for name in features.lower().split()}
    # macOS reports XSAVE as OSXSAVE once the system has switched it on.
    if "osxsave" in names:
        names.add("xsave")
    return model, frozenset(names) if names else None, {}


def _windows_cpu() -> tuple[str, frozenset[str] | None, dict[str, str]]:
    try:
        import ctypes

        present = ctypes.windll.kernel32.IsProcessorFeaturePresent  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        return platform.processor(), None, {}
    flags = set(V3_FLAGS) if present(WINDOWS_AVX2) else set()
    if present(WINDOWS_AVX512F):
        flags |= V4_FLAGS
    return platform.processor(), frozenset(flags), {}


def detect() -> Cpu:
    """This machine's CPU, read without loading any numerical library."""
    machine = platform.machine() or "unknown"
    readers = {"linux": _linux_cpu, "darwin": _macos_cpu, "win32": _windows_cpu}
    reader = readers.get(sys.platform)
    if reader is None or machine.lower() not in X86_MACHINES:
        model = _linux_cpu()[0] if sys.platform == "linux" else platform.processor()
        return Cpu(machine, model, None)
    model, flags, caches = reader()
    return Cpu(machine, model, flags, caches)


def _numpy_grouped() -> bool:
    """Whether the installed NumPy names its x86 features by level (2.4 and later)."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError, ValueError):
        major, minor = importlib.metadata.version("numpy").split(".")[:2]
        return (int(major), int(minor)) >= (2, 4)
    return True


def pin(portable: bool, cpu: Cpu | None = None, *, apply: bool = True) -> Pin:
    """Pin every CPU code path to x86-64-v3, when asked and when the CPU has it.

    Must run before NumPy or the framework is imported: they read these
    variables when they load.  With ``apply=False`` it only says what it
    would do.
    """
    cpu = cpu or detect()
    if not portable:
        return Pin(False, False, cpu, {}, "portable = false: this machine's own kernels")
    if not cpu.x86:
        return Pin(True, False, cpu, {}, note_for_other_architecture(cpu))
    if cpu.level != LEVEL and cpu.level != "x86-64-v4":
        return Pin(
            True,
            False,
            cpu,
            {},
            f"this CPU ({cpu.model or 'model unknown'}) lacks AVX2 or FMA ({LEVEL}) or does not "
            "say whether it has them: its own kernels are used, and its results will not "
            f"match those of {LEVEL} machines bit for bit",
        )
    variables = {**PINS, NUMPY_ENABLE: NUMPY_V3[_numpy_grouped()]}
    if apply:
        os.environ.pop(NUMPY_DISABLE, None)
        os.environ.update(variables)
    return Pin(True, True, cpu, variables, f"pinned to {LEVEL} on a {cpu.level} CPU")


def note_for_other_architecture(cpu: Cpu) -> str:
    return (
        f"portable numerics pin x86-64 CPUs only; on {cpu.machine} the bits repeat on machines "
        f"of the same kind ({cpu.machine}, same Python and lock), not on x86-64 ones"
    )


def warning(pin_: Pin) -> str | None:
    """The one line to show the user when the promise does not hold on this machine."""
    if pin_.requested and not pin_.applied:
        return pin_.note
    return None


def observe(framework_capability: dict[str, Any]) -> dict[str, Any]:
    """The kernels this process really used; call it after training or predicting."""
    return {
        "blas": _blas_kernels(),
        "numpy_simd": _numpy_simd(),
        "framework": framework_capability,
    }


def _blas_kernels() -> list[dict[str, Any]] | str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl is not installed"
    kernels = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        # The folder that holds the library tells whose it is (numpy.libs,
        # scipy.libs, torch/lib); the path itself would name this machine.
        filepath = Path(pool.get("filepath") or "")
        kernels.append(
            {
                "library": f"{filepath.parent.name}/{filepath.name}",
                "internal_api": pool.get("internal_api"),
                "version": pool.get("version"),
                "architecture": pool.get("architecture"),
                "threading_layer": pool.get("threading_layer"),
                "num_threads": pool.get("num_threads"),
            }
        )
    return sorted(kernels, key=lambda kernel: kernel["library"])


def _numpy_simd() -> list[str]:
    """NumPy's SIMD levels in use: its dispatch targets that are switched on."""
    try:
        from numpy._core import _multiarray_umath as core
    except ImportError:  # NumPy before 2.0
        from numpy.core import _multiarray_umath as core  # type: ignore[no-redef]
    features = core.__cpu_features__
    return [name for name in core.__cpu_dispatch__ if features.get(name)]
