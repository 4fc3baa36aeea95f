"""Whisper's arithmetic is pinned to one instruction set wherever the processor allows it."""

from __future__ import annotations

from pathlib import Path

from backend.adapters.speech.whisper_numerics import PINNED, cpu_flags, pin_numerics

ZEN3 = frozenset({"sse4_2", "avx", "avx2", "fma", "bmi2"})
ZEN4 = ZEN3 | {"avx512f", "avx512_vnni", "avx512bw"}


def test_machines_with_different_instruction_sets_get_the_same_settings() -> None:
    older: dict[str, str] = {}
    newer = {"CT2_FORCE_CPU_ISA": "AVX512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX", "CT2_USE_MKL": "1"}
    assert pin_numerics(older, lambda: ZEN3, "x86_64") is None
    assert pin_numerics(newer, lambda: ZEN4, "x86_64") is None
    assert older == newer == PINNED  # what was set before (a newer machine's own choice) is overridden
    assert PINNED == {"CT2_USE_MKL": "0", "CT2_FORCE_CPU_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def test_a_processor_that_cannot_run_the_pinned_kernels_is_left_alone() -> None:
    env: dict[str, str] = {}
    assert "AVX2" in (pin_numerics(env, lambda: frozenset({"sse4_2", "avx"}), "x86_64") or "")
    assert "x86" in (pin_numerics(env, lambda: ZEN3, "aarch64") or "")
    assert env == {}


def test_cpu_flags_come_from_the_flags_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\nbugs\t: none\n")
    assert cpu_flags(info) == frozenset({"fpu", "sse2", "avx", "avx2", "fma"})
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_numpy_is_capped_at_avx2_once_the_backend_is_imported_and_never_after_numpy() -> None:
    import subprocess
    import sys

    from backend.simd import NUMPY_SWITCH, cap_numpy

    probe = "import backend, numpy; from backend.simd import numpy_kernels_beyond_avx2 as k; print(k())"
    env = {k: v for k, v in __import__("os").environ.items() if k != NUMPY_SWITCH}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"  # on an AVX-512 machine too: the same kernels as on an AVX2-only one
    late: dict[str, str] = {}
    assert cap_numpy(late, {"numpy": object()}) is False and late == {}  # too late to change numpy's choice
    chosen = {NUMPY_SWITCH: "AVX512_SPR"}
    assert cap_numpy(chosen, {}) is True and chosen == {NUMPY_SWITCH: "AVX512_SPR"}  # someone's own choice stays
