"""Portable numerics: the same bits under every simulated x86-64-v3-or-newer CPU.

Other CPUs are simulated on this one through the libraries' own switches,
set in the caller's shell: NumPy's SIMD dispatch, PyTorch's kernel level,
oneDNN's and MKL's instruction sets.  (OpenBLAS's kernel is never forced
here: the manifest shows the one that ran.)  With ``portable = true`` the
commands override them all; with ``portable = false`` each simulated CPU
gives its own bits, which shows that the first test can fail.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import backends, portable

from conftest import CONTRACT, MODULE, ROOT, TINY, command, project_env

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


# The pure helpers below read files, run tools and ask the system; no
# numerical library is loaded in this process.  Where a test stands in for
# another machine, it points the module at files or a tool written here.

V3 = portable.V3_FLAGS
V4 = portable.V4_FLAGS
NUMPY_V3_BY_NAME = "SSE SSE2 SSE3 SSSE3 SSE41 POPCNT SSE42 AVX F16C FMA3 AVX2"
PINNED_BY_NUMPY_2_4 = {
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
    "NPY_ENABLE_CPU_FEATURES": "X86_V3",
}


def redirect_paths(monkeypatch, paths: dict) -> None:
    """Make the module read ``paths[name]`` wherever it reads the absolute path ``name``."""
    monkeypatch.setattr(portable, "Path", lambda name: Path(paths.get(str(name), name)))


def fake_numpy_metadata(monkeypatch, folder: Path, version: str) -> None:
    """Installed-package metadata that says NumPy ``version``, found before the real one."""
    info = folder / f"numpy-{version}.dist-info"
    info.mkdir(parents=True)
    text = f"Metadata-Version: 2.1\nName: numpy\nVersion: {version}\n"
    (info / "METADATA").write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))


@pytest.mark.parametrize(
    ("machine", "x86"),
    [
        ("x86_64", True),
        ("X86_64", True),
        ("AMD64", True),
        ("x64", True),
        ("i686", False),
        ("arm64", False),
        ("aarch64", False),
    ],
)
def test_cpu_is_x86_exactly_for_the_x86_64_machine_names_in_any_case(machine, x86):
    assert portable.Cpu(machine, "", None).x86 is x86


@pytest.mark.parametrize(
    ("machine", "flags", "level"),
    [
        ("arm64", V3 | V4, "arm64"),
        ("x86_64", None, "x86-64 (features unknown)"),
        ("x86_64", V3 - {"movbe"}, "x86-64 below v3"),
        ("x86_64", frozenset(), "x86-64 below v3"),
        ("x86_64", V3, "x86-64-v3"),
        ("x86_64", V3 | V4 - {"avx512vl"}, "x86-64-v3"),
        ("x86_64", V3 | V4, "x86-64-v4"),
        ("AMD64", V3 | V4 | {"avx512_vnni"}, "x86-64-v4"),
    ],
)
def test_cpu_level_is_the_highest_level_whose_every_feature_is_present(machine, flags, level):
    assert portable.Cpu(machine, "", flags).level == level


def test_record_of_an_applied_pin_names_the_pinned_level_cpu_and_variables():
    cpu = portable.Cpu("x86_64", "Some CPU", V3 | V4, {"L2": "2048K"})
    pin = portable.Pin(True, True, cpu, {"A": "1"}, "the note")
    assert pin.record() == {
        "portable": True,
        "pinned_level": "x86-64-v3",
        "cpu_level": "x86-64-v4",
        "cpu_model": "Some CPU",
        "cpu_caches": {"L2": "2048K"},
        "pins": {"A": "1"},
        "note": "the note",
    }


def test_record_of_a_pin_not_applied_has_no_pinned_level():
    cpu = portable.Cpu("arm64", "Apple M2", None)
    pin = portable.Pin(True, False, cpu, {}, "n")
    assert pin.record() == {
        "portable": True,
        "pinned_level": None,
        "cpu_level": "arm64",
        "cpu_model": "Apple M2",
        "cpu_caches": {},
        "pins": {},
        "note": "n",
    }


def test_pin_without_portable_changes_nothing_and_says_so(monkeypatch):
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "X86_V4")
    before = dict(os.environ)
    cpu = portable.Cpu("x86_64", "Some CPU", V3)
    assert portable.pin(False, cpu) == portable.Pin(
        False, False, cpu, {}, "portable = false: this machine's own kernels"
    )
    assert dict(os.environ) == before
    assert portable.warning(portable.pin(False, cpu)) is None


def test_pin_without_a_cpu_reads_this_machines_cpu():
    assert portable.pin(False).cpu == portable.detect()
    assert portable.pin(True, apply=False).cpu == portable.detect()


def test_pin_on_another_architecture_gives_the_whole_note():
    cpu = portable.Cpu("aarch64", "Neoverse", None)
    pin = portable.pin(True, cpu)
    note = (
        "portable numerics pin x86-64 CPUs only; on aarch64 the bits repeat on machines "
        "of the same kind (aarch64, same Python and lock), not on x86-64 ones"
    )
    assert pin == portable.Pin(True, False, cpu, {}, note)
    assert portable.warning(pin) == note


@pytest.mark.parametrize(
    ("model", "flags", "named"),
    [("an old CPU", V3 - {"fma"}, "an old CPU"), ("", None, "model unknown")],
)
def test_pin_on_a_cpu_without_v3_gives_the_whole_warning(model, flags, named):
    cpu = portable.Cpu("x86_64", model, flags)
    pin = portable.pin(True, cpu)
    assert (pin.requested, pin.applied, pin.variables) == (True, False, {})
    assert portable.warning(pin) == (
        f"this CPU ({named}) lacks AVX2 or FMA (x86-64-v3) or does not say whether it has "
        "them: its own kernels are used, and its results will not match those of "
        "x86-64-v3 machines bit for bit"
    )


@pytest.mark.parametrize("level", ["x86-64-v3", "x86-64-v4"])
def test_pin_on_a_v3_or_v4_cpu_pins_every_variable_and_warns_of_nothing(
    monkeypatch, tmp_path, level
):
    fake_numpy_metadata(monkeypatch, tmp_path, "2.4.0")
    cpu = portable.Cpu("x86_64", "Some CPU", V3 | V4 if level == "x86-64-v4" else V3)
    pin = portable.pin(True, cpu, apply=False)
    assert pin == portable.Pin(
        True, True, cpu, PINNED_BY_NUMPY_2_4, f"pinned to x86-64-v3 on a {level} CPU"
    )
    assert portable.warning(pin) is None


def test_pin_under_numpy_before_2_4_enables_each_v3_feature_by_name(monkeypatch, tmp_path):
    fake_numpy_metadata(monkeypatch, tmp_path, "2.3.5")
    pin = portable.pin(True, portable.Cpu("x86_64", "", V3), apply=False)
    assert pin.variables == {**PINNED_BY_NUMPY_2_4, "NPY_ENABLE_CPU_FEATURES": NUMPY_V3_BY_NAME}


@needs_x86_v3
def test_pin_without_apply_leaves_the_environment_alone(monkeypatch):
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "X86_V4")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")
    before = dict(os.environ)
    assert portable.pin(True, apply=False).applied
    assert dict(os.environ) == before


@pytest.mark.parametrize(
    ("version", "grouped"),
    [
        ("2.4.0", True),
        ("2.10.1", True),
        ("3.0.0", True),
        ("3.5", True),
        ("2.3.9", False),
        ("1.26.4", False),
        ("1.4.0", False),
    ],
)
def test_numpy_names_x86_features_by_level_from_2_4_on(monkeypatch, tmp_path, version, grouped):
    fake_numpy_metadata(monkeypatch, tmp_path, version)
    assert portable._numpy_grouped() is grouped


@pytest.mark.parametrize("version", ["2", "2.x.1"])
def test_an_unreadable_numpy_version_counts_as_grouped(monkeypatch, tmp_path, version):
    fake_numpy_metadata(monkeypatch, tmp_path, version)
    assert portable._numpy_grouped() is True


def test_numpy_not_installed_counts_as_grouped(monkeypatch, tmp_path):
    # No folder on the path holds NumPy's metadata.
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert portable._numpy_grouped() is True


CPUINFO = """
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: First CPU: 3.0 GHz

processor\t: 1
model name\t: Second CPU
flags\t\t: fpu avx avx2
"""


def test_linux_cpu_reads_the_first_processor_only(monkeypatch, tmp_path):
    (tmp_path / "cpuinfo").write_text(CPUINFO, encoding="utf-8")
    redirect_paths(
        monkeypatch,
        {"/proc/cpuinfo": tmp_path / "cpuinfo", "/sys/devices/system/cpu/cpu0/cache": tmp_path},
    )
    # The first processor lists no flags: they stay unknown, not the second one's.
    assert portable._linux_cpu() == ("First CPU: 3.0 GHz", None, {})


def test_linux_cpu_gives_the_model_flags_and_caches(monkeypatch, tmp_path):
    text = "processor : 0\nmodel name : A CPU\nflags : fpu  avx2 fma \n\nprocessor : 1\n"
    (tmp_path / "cpuinfo").write_text(text, encoding="utf-8")
    (tmp_path / "cache" / "index0").mkdir(parents=True)
    for name, value in {"level": "2\n", "type": "Unified\n", "size": "1024K\n"}.items():
        (tmp_path / "cache" / "index0" / name).write_text(value, encoding="utf-8")
    redirect_paths(
        monkeypatch,
        {
            "/proc/cpuinfo": tmp_path / "cpuinfo",
            "/sys/devices/system/cpu/cpu0/cache": tmp_path / "cache",
        },
    )
    assert portable._linux_cpu() == ("A CPU", frozenset({"fpu", "avx2", "fma"}), {"L2": "1024K"})


def test_linux_cpu_without_a_readable_cpuinfo_knows_nothing(monkeypatch, tmp_path):
    redirect_paths(monkeypatch, {"/proc/cpuinfo": tmp_path / "missing"})
    assert portable._linux_cpu() == ("", None, {})


def test_caches_are_named_by_level_and_type_and_unreadable_ones_skipped(monkeypatch, tmp_path):
    caches = {
        "index0": ("1", "Data", "48K"),
        "index1": ("1", "Instruction", "32K"),
        "index2": ("2", "Unified", "2048K"),
        "index3": ("3", "Unified", "32768K"),
        "index4": ("4", "Unified", None),  # no size file: skipped
    }
    for index, values in caches.items():
        (tmp_path / index).mkdir()
        for name, value in zip(("level", "type", "size"), values, strict=True):
            if value is not None:
                (tmp_path / index / name).write_text(f"{value}\n", encoding="utf-8")
    (tmp_path / "power").mkdir()
    redirect_paths(monkeypatch, {"/sys/devices/system/cpu/cpu0/cache": tmp_path})
    assert portable._caches() == {"L1d": "48K", "L1i": "32K", "L2": "2048K", "L3": "32768K"}


@pytest.mark.skipif(
    sys.platform != "linux" or not CPU.x86, reason="reads Linux's files on an x86-64 CPU"
)
def test_detect_on_this_linux_machine_reads_proc_cpuinfo_and_sysfs():
    lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    first = {}
    for line in lines:
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    caches = {}
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        level, kind, size = ((index / n).read_text().strip() for n in ("level", "type", "size"))
        caches["L" + level + {"Data": "d", "Instruction": "i"}.get(kind, "")] = size
    expected = portable.Cpu(
        os.uname().machine, first["model name"], frozenset(first["flags"].split()), caches
    )
    assert portable.detect() == expected


def fake_sysctl(tmp_path: Path, features: str, brand: str, status: int = 0) -> Path:
    """A sysctl for macOS's names, which logs its arguments and exits with
    ``status``; its folder, for PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "sysctl"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> "{tmp_path}/calls"\n'
        'if [ "$2" = machdep.cpu.brand_string ]; then\n'
        f"  printf '%s\\n' '{brand}'\n"
        "else\n"
        f"  printf '%s' '{features}'\n"
        "fi\n"
        f"exit {status}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return folder


needs_sh = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in sysctl is a sh script")


@needs_sh
def test_macos_cpu_reads_sysctl_and_maps_its_feature_names(monkeypatch, tmp_path):
    features = "FPU AVX1.0 SSE4.2 OSXSAVE\nAVX2 BMI1 BMI2 FMA\nLZCNT SYSCALL\n"
    monkeypatch.setenv("PATH", str(fake_sysctl(tmp_path, features, "  Intel(R) Core(TM) i7  ")))
    names = {"fpu", "avx", "sse4.2", "osxsave", "xsave", "avx2", "bmi1", "bmi2", "fma", "abm"}
    assert portable._macos_cpu() == ("Intel(R) Core(TM) i7", frozenset(names | {"syscall"}), {})
    assert (tmp_path / "calls").read_text(encoding="utf-8").splitlines() == [
        "-n machdep.cpu.features machdep.cpu.leaf7_features machdep.cpu.extfeatures",
        "-n machdep.cpu.brand_string",
    ]


@needs_sh
def test_macos_cpu_keeps_what_sysctl_printed_when_one_name_is_unknown(monkeypatch, tmp_path):
    # A Mac without machdep.cpu.leaf7_features prints the other values and exits 1.
    monkeypatch.setenv("PATH", str(fake_sysctl(tmp_path, "AVX1.0 FMA", "Core i5", status=1)))
    assert portable._macos_cpu() == ("Core i5", frozenset({"avx", "fma"}), {})


@needs_sh
def test_macos_cpu_adds_xsave_only_when_osxsave_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(fake_sysctl(tmp_path, "AVX2 FMA", "M")))
    assert portable._macos_cpu() == ("M", frozenset({"avx2", "fma"}), {})


@needs_sh
def test_macos_cpu_without_features_reported_has_unknown_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(fake_sysctl(tmp_path, "", "M")))
    assert portable._macos_cpu() == ("M", None, {})


def test_macos_cpu_without_sysctl_knows_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert portable._macos_cpu() == ("", None, {})


@pytest.mark.slow
@needs_sh
def test_macos_cpu_gives_up_on_a_sysctl_that_hangs(monkeypatch, tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sysctl").write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    (folder / "sysctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    assert portable._macos_cpu() == ("", None, {})


class FakeWindll:
    """Windows' kernel32 answering IsProcessorFeaturePresent for the features given."""

    def __init__(self, present: set[int]):
        calls = self.calls = []

        def is_present(feature: int) -> int:
            calls.append(feature)
            return int(feature in present)

        self.kernel32 = types.SimpleNamespace(IsProcessorFeaturePresent=is_present)


@pytest.mark.parametrize(
    ("present", "flags"),
    [(set(), frozenset()), ({40}, V3), ({41}, V4), ({40, 41}, V3 | V4), ({39, 42}, frozenset())],
)
def test_windows_cpu_asks_for_avx2_as_40_and_avx512f_as_41(monkeypatch, present, flags):
    import ctypes

    windll = FakeWindll(present)
    monkeypatch.setattr(ctypes, "windll", windll, raising=False)
    model = portable.platform.processor()
    assert portable._windows_cpu() == (model, flags, {})
    assert windll.calls == [40, 41]


def test_windows_cpu_elsewhere_has_no_windll_and_unknown_flags():
    import ctypes

    if hasattr(ctypes, "windll"):
        pytest.skip("this is Windows")
    assert portable._windows_cpu() == (portable.platform.processor(), None, {})


def test_windows_cpu_without_ctypes_has_unknown_flags(monkeypatch):
    monkeypatch.setitem(sys.modules, "ctypes", None)
    assert portable._windows_cpu() == (portable.platform.processor(), None, {})


def test_windows_cpu_whose_kernel32_fails_to_load_has_unknown_flags(monkeypatch):
    import ctypes

    class Unloadable:
        @property
        def kernel32(self):
            raise OSError("cannot load kernel32.dll")

    monkeypatch.setattr(ctypes, "windll", Unloadable(), raising=False)
    assert portable._windows_cpu() == (portable.platform.processor(), None, {})


def fake_system(monkeypatch, system: str, machine: str) -> None:
    monkeypatch.setattr(portable, "sys", types.SimpleNamespace(platform=system))
    fake = types.SimpleNamespace(machine=lambda: machine, processor=lambda: "the processor")
    monkeypatch.setattr(portable, "platform", fake)


def test_detect_on_windows_asks_windows_for_the_features(monkeypatch):
    import ctypes

    fake_system(monkeypatch, "win32", "AMD64")
    monkeypatch.setattr(ctypes, "windll", FakeWindll({40, 41}), raising=False)
    assert portable.detect() == portable.Cpu("AMD64", "the processor", V3 | V4, {})


@needs_sh
def test_detect_on_an_intel_mac_asks_sysctl(monkeypatch, tmp_path):
    fake_system(monkeypatch, "darwin", "x86_64")
    monkeypatch.setenv("PATH", str(fake_sysctl(tmp_path, "AVX2 FMA", "Core i9")))
    assert portable.detect() == portable.Cpu("x86_64", "Core i9", frozenset({"avx2", "fma"}))


def test_detect_on_an_arm_mac_reads_no_features(monkeypatch, tmp_path):
    fake_system(monkeypatch, "darwin", "arm64")
    monkeypatch.setenv("PATH", str(tmp_path))  # sysctl would not be asked
    assert portable.detect() == portable.Cpu("arm64", "the processor", None)


def test_detect_on_a_system_without_a_reader_reads_no_features(monkeypatch):
    fake_system(monkeypatch, "freebsd14", "x86_64")
    assert portable.detect() == portable.Cpu("x86_64", "the processor", None)


@pytest.mark.parametrize(("machine", "named"), [("aarch64", "aarch64"), ("", "unknown")])
def test_detect_on_linux_but_not_x86_takes_the_model_from_cpuinfo(
    monkeypatch, tmp_path, machine, named
):
    (tmp_path / "cpuinfo").write_text("processor : 0\nmodel name : Neoverse-N1\n", encoding="utf-8")
    redirect_paths(monkeypatch, {"/proc/cpuinfo": tmp_path / "cpuinfo"})
    fake_system(monkeypatch, "linux", machine)
    assert portable.detect() == portable.Cpu(named, "Neoverse-N1", None)


# Run in a fresh process, with NumPy and scikit-learn's OpenMP runtime (where the
# project has one): threadpoolctl lists a pool that is not a BLAS too.
OBSERVE = """
import ctypes
import importlib.util
import json
import os
import sys
from pathlib import Path

module = sys.argv[1]
openmp = sorted(Path(sys.argv[2]).glob("libgomp*")) if len(sys.argv) > 2 else []
for library in openmp:
    ctypes.CDLL(str(library))
import numpy
from threadpoolctl import threadpool_info

portable = __import__(module + ".portable", fromlist=["portable"])
seen = portable.observe(dict(framework_key="framework value"))
pools = threadpool_info()
expected = [
    dict(
        library=os.path.basename(os.path.dirname(pool["filepath"]))
        + "/"
        + os.path.basename(pool["filepath"]),
        internal_api=pool["internal_api"],
        version=pool["version"],
        architecture=pool["architecture"],
        threading_layer=pool["threading_layer"],
        num_threads=pool["num_threads"],
    )
    for pool in pools
    if pool["user_api"] == "blas"
]
print(json.dumps(dict(seen=seen, apis=[pool["user_api"] for pool in pools], expected=expected)))
"""


def openmp_folder() -> list[str]:
    """scikit-learn's OpenMP runtime's folder, where the project has scikit-learn."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("sklearn")
    except ImportError:
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(spec.submodule_search_locations[0]).parent / "scikit_learn.libs"
    return [str(folder)] if folder.is_dir() else []


@pytest.mark.skipif(
    not (CPU.level in (portable.LEVEL, "x86-64-v4") and portable._numpy_grouped()),
    reason=f"needs an {portable.LEVEL} CPU and NumPy 2.4 or later",
)
def test_observe_reports_each_blas_only_and_numpy_s_simd_levels_in_use():
    env = {**project_env(ROOT), "NPY_ENABLE_CPU_FEATURES": "X86_V3"}
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    done = subprocess.run(
        [sys.executable, "-c", OBSERVE, MODULE, *openmp_folder()],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "blas" in result["apis"]
    assert result["expected"]
    assert result["seen"] == {
        "blas": result["expected"],
        "numpy_simd": ["X86_V3"],
        "framework": {"framework_key": "framework value"},
    }


def test_blas_kernels_skip_every_pool_that_is_not_a_blas_wherever_it_is_listed(monkeypatch):
    # threadpoolctl lists pools in the order their libraries loaded: an
    # OpenMP runtime loaded first comes before the BLAS libraries.
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def pool(user_api: str, filepath: str) -> dict:
        return dict(user_api=user_api, filepath=filepath, internal_api=user_api, version="1")

    pools = [
        pool("openmp", "/x/scikit_learn.libs/libgomp.so"),
        pool("blas", "/x/scipy.libs/libscipy_openblas.so"),
        pool("openmp", "/x/torch/lib/libgomp.so"),
        pool("blas", "/x/numpy.libs/libscipy_openblas64_.so"),
    ]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools)
    kernels = portable._blas_kernels()
    assert [kernel["library"] for kernel in kernels] == [
        "numpy.libs/libscipy_openblas64_.so",
        "scipy.libs/libscipy_openblas.so",
    ]


def test_blas_kernels_without_threadpoolctl_says_so():
    script = (
        "import sys; sys.modules['threadpoolctl'] = None\n"
        f"from {MODULE} import portable; print(portable._blas_kernels())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=project_env(ROOT),
        check=False,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, "threadpoolctl is not installed\n"), done.stderr


# The scikit-learn backend.  These tests live here, in a file every project
# has, and run only where the project's framework is scikit-learn.
BACKEND = backends.load()
needs_sklearn = pytest.mark.skipif(
    BACKEND.FRAMEWORK != "scikit-learn", reason="tests the scikit-learn backend"
)


def zip_entries(data: bytes) -> list[tuple[str, bytes, tuple, int, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            (
                info.filename,
                archive.read(info),
                info.date_time,
                info.external_attr,
                info.compress_type,
            )
            for info in archive.infolist()
        ]


@needs_sklearn
def test_sklearn_canonical_renumbers_ids_and_files_and_fixes_dates_and_modes():
    schema = {
        "__class__": "Top",
        "__id__": 140001,
        "content": {
            "a": {"__id__": 140002, "file": "140002.coefs.npy"},
            "b": [{"__id__": 140001, "file": "140002.coefs.npy"}, {"__id__": 9, "file": "raw"}],
            "c": {"file": {"__id__": 140003}, "__id__": "not a number"},
            "d": {"size": 140004, "name": "140005.npy"},
        },
    }
    source = io.BytesIO()
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [
            ("zz.txt", b"Z"),
            ("raw", b"R"),
            ("schema.json", json.dumps(schema).encode("utf-8")),
            ("140002.coefs.npy", b"C"),
            ("aa.txt", b"A"),
        ]:
            archive.writestr(name, content)
    expected = {
        "__class__": "Top",
        "__id__": 0,
        "content": {
            "a": {"__id__": 1, "file": "0.npy"},
            "b": [{"__id__": 0, "file": "0.npy"}, {"__id__": 2, "file": "1"}],
            "c": {"file": {"__id__": 3}, "__id__": "not a number"},
            "d": {"size": 140004, "name": "140005.npy"},
        },
    }
    mode = 0x1A40000  # -rw-r--r--, in the high half of the zip's external attributes
    moment = (1980, 1, 1, 0, 0, 0)
    assert zip_entries(BACKEND._canonical(source.getvalue())) == [
        ("schema.json", json.dumps(expected, indent=2).encode("utf-8"), moment, mode, 0),
        ("0.npy", b"C", moment, mode, 0),
        ("1", b"R", moment, mode, 0),
        ("aa.txt", b"A", moment, mode, 0),
        ("zz.txt", b"Z", moment, mode, 0),
    ]


# One fresh process runs the backend on tiny data and reports what it saw,
# with what scikit-learn and skops say directly, for the tests to compare.
SKLEARN_RUN = """
import collections
import fractions
import json
import sys

import numpy as np
import skops.io
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

b = __import__(sys.argv[1] + ".backends.sklearn_backend", fromlist=["sklearn_backend"])
out = dict()
out["constants"] = [b.FRAMEWORK, b.MODEL_KIND, b.WEIGHTS_FORMAT, b.WEIGHTS_SUFFIX]
out["plain"] = [b.prepare_environment(True), b.prepare_environment(False), b.cpu_capability()]
report = b.make_deterministic(5, 1)
pools = sorted(pool["internal_api"] + "=" + str(pool["num_threads"]) for pool in threadpool_info())
out["deterministic"] = [report, pools]
np.random.seed(7)
out["draws"] = [b.random_draws(3), np.random.RandomState(7).random_sample(3).tolist()]

x = np.random.RandomState(0).random_sample((24, 4))
labels = np.array([2, 5, 7] * 8)
settings = dict(hidden=5, lr=0.01, batch_size=8, seed=3, epochs=3)
tasks = dict(classification=dict(settings), regression=dict(settings))
tasks["regression"]["data.task"] = "regression"
names = ["hidden_layer_sizes", "solver", "learning_rate_init", "batch_size", "shuffle"]
names.append("random_state")
models = dict()
for task, config in tasks.items():
    y = labels if task == "classification" else x.sum(axis=1)
    model = b.build(config, 4, 3, None)
    built = [type(model).__name__, [repr(model.get_params()[name]) for name in names]]
    epochs = []
    fitted = b.fit(model, x, y, config, None, lambda *seen: epochs.append(list(seen)))
    same = [fitted is model] + [seen.pop() is model for seen in epochs]
    scored = b.scores(model, x).tolist()
    direct = model.predict_proba(x) if task == "classification" else model.predict(x)
    data = b.to_bytes(model)
    again = b.from_bytes(data, config, 4, 3)
    weights = [w.tolist() for w in b.weight_arrays(data)]
    models[task] = model
    out[task] = dict(
        built=built,
        epochs=epochs,
        same=same,
        curve=model.loss_curve_,
        scores=[scored, direct.tolist()],
        loaded=[type(again).__name__, b.to_bytes(again) == data],
        weights=[weights, [w.tolist() for w in [*model.coefs_, *model.intercepts_]]],
        differs_from_skops=data != skops.io.dumps(model),
    )
out["classes"] = models["classification"].classes_.tolist()
untrained = b.to_bytes(b.build(tasks["classification"], 4, 3, None))


def refusal(call):
    try:
        call()
    except ValueError as error:
        return str(error)
    except Exception as error:
        return "not a ValueError: " + repr(error)
    return "accepted"


out["untrained"] = refusal(lambda: b.from_bytes(untrained, dict(), 0, 0))


mixed = skops.io.dumps([models["classification"], fractions.Fraction(1, 2), collections.Counter()])
other = skops.io.dumps(LogisticRegression())
regressor = b.to_bytes(models["regression"])
out["refusals"] = [
    refusal(lambda: b.from_bytes(b"not a zip file", dict(), 0, 0)),
    refusal(lambda: b.from_bytes(mixed, dict(), 0, 0)),
    refusal(lambda: b.from_bytes(other, dict(), 0, 0)),
    refusal(lambda: b.weight_arrays(other)),
    refusal(lambda: b.from_bytes(regressor, tasks["classification"], 4, 3)),
    refusal(lambda: b.from_bytes(b.to_bytes(models["classification"]), tasks["regression"], 4, 1)),
]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def sklearn_run() -> dict:
    """What the backend did in one fresh process (scikit-learn takes seconds to load)."""
    done = subprocess.run(
        [sys.executable, "-c", SKLEARN_RUN, MODULE],
        capture_output=True,
        text=True,
        env=project_env(ROOT),
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
@needs_sklearn
def test_sklearn_backend_names_its_framework_and_format_and_sets_no_variables(sklearn_run):
    assert sklearn_run["constants"] == ["scikit-learn", "mlp", "skops", ".skops"]
    assert sklearn_run["plain"] == [{}, {}, {}]


@pytest.mark.slow
@needs_sklearn
def test_sklearn_make_deterministic_limits_every_pool_and_reports_each(sklearn_run):
    report, pools = sklearn_run["deterministic"]
    assert report == {"threadpools": pools}
    assert pools and all(pool.endswith("=1") for pool in pools)


@pytest.mark.slow
@needs_sklearn
def test_sklearn_random_draws_come_from_numpy_s_global_generator(sklearn_run):
    draws, expected = sklearn_run["draws"]
    assert len(draws) == 3
    assert draws == expected


@pytest.mark.slow
@needs_sklearn
@pytest.mark.parametrize(
    ("task", "kind"), [("classification", "MLPClassifier"), ("regression", "MLPRegressor")]
)
def test_sklearn_build_makes_the_configured_mlp_for_the_task(sklearn_run, task, kind):
    assert sklearn_run[task]["built"] == [kind, ["(5,)", "'adam'", "0.01", "8", "True", "3"]]


@pytest.mark.slow
@needs_sklearn
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_sklearn_fit_runs_one_pass_per_epoch_and_reports_each_loss(sklearn_run, task):
    run = sklearn_run[task]
    curve = run["curve"]
    assert len(curve) == 3
    assert run["epochs"] == [[1, curve[0]], [2, curve[1]], [3, curve[2]]]
    assert run["same"] == [True, True, True, True]


@pytest.mark.slow
@needs_sklearn
def test_sklearn_fit_learns_every_class_of_the_labels(sklearn_run):
    assert sklearn_run["classes"] == [2, 5, 7]


@pytest.mark.slow
@needs_sklearn
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_sklearn_scores_are_probabilities_or_predicted_values(sklearn_run, task):
    scored, direct = sklearn_run[task]["scores"]
    assert scored == direct
    assert len(scored) == 24
    if task == "classification":
        assert all(len(row) == 3 for row in scored)


@pytest.mark.slow
@needs_sklearn
@pytest.mark.parametrize(
    ("task", "kind"), [("classification", "MLPClassifier"), ("regression", "MLPRegressor")]
)
def test_sklearn_weights_load_back_as_the_same_model_and_bytes(sklearn_run, task, kind):
    run = sklearn_run[task]
    assert run["loaded"] == [kind, True]
    weights, expected = run["weights"]
    assert weights == expected
    assert run["differs_from_skops"]


@pytest.mark.slow
@needs_sklearn
def test_sklearn_an_untrained_model_loads_without_trusting_any_type(sklearn_run):
    assert sklearn_run["untrained"] == "accepted"


@pytest.mark.slow
@needs_sklearn
def test_sklearn_from_bytes_refuses_with_the_whole_reason(sklearn_run):
    assert sklearn_run["refusals"] == [
        "not a skops file (BadZipFile: File is not a zip file)",
        "holds types this project does not trust: collections.Counter, fractions.Fraction",
        "holds a LogisticRegression, not an LogisticRegression",
        "holds a LogisticRegression, not an LogisticRegression",
        "holds a MLPRegressor, not an MLPClassifier",
        "holds a MLPClassifier, not an MLPRegressor",
    ]
