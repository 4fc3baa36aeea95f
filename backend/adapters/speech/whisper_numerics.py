"""One arithmetic for Whisper on every x86 machine: the same audio, the same transcript.

CTranslate2 picks its CPU kernels by what the processor offers (AVX2 on an AMD Zen 3, AVX-512 on a Zen 4 or a
recent Intel, Intel MKL instead of oneDNN on an Intel), and oneDNN, which does its int8 matrix products, picks
its own instruction set the same way. Each choice rounds differently; at temperature 0 a different rounding is
sometimes a different word. Measured on one Zen 3 machine, the same 50 s of speech: capping CTranslate2's
kernels at AVX ("I wake up at some times") or only oneDNN's ("Not too bad") changed the text against the
native AVX2 path ("That too bad ... at night sometimes"). A transcript that depends on the machine cannot be
reproduced by a clinic's second laptop or by the test suite.

numpy, which computes Whisper's input, is capped the same way when the ``backend`` package is imported
(``backend.simd``). So before CTranslate2 is first loaded, both libraries are told to use AVX2 and oneDNN
(every x86 processor made since about 2015 has AVX2 and FMA). Env variables are the libraries' documented switches and are read
once, when their dispatch first runs: :func:`pin_numerics` must run before the first ``faster_whisper``
import, which is why every lazy import of it in this package calls it first. On a processor without AVX2
(or not x86), nothing is pinned and the reason is logged.
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Callable, MutableMapping
from functools import lru_cache
from pathlib import Path

from backend.simd import NUMPY_BEYOND_AVX2, NUMPY_SWITCH, numpy_kernels_beyond_avx2

log = logging.getLogger(__name__)

PINNED: dict[str, str] = {
    "CT2_USE_MKL": "0",  # on Intel CPUs CTranslate2 would use MKL; oneDNN everywhere
    "CT2_FORCE_CPU_ISA": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN's own dispatch (int8 products would use VNNI / AVX-512 where present)
}
_NEEDED_FLAGS = frozenset({"avx2", "fma"})
_X86 = frozenset({"x86_64", "amd64", "i686", "i386"})
_noted: set[str] = set()  # reasons already logged (once per process)


@lru_cache(maxsize=4)
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The processor's feature flags as Linux lists them (empty when the file is not there)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def pin_numerics(
    environ: MutableMapping[str, str] | None = None,
    flags: Callable[[], frozenset[str]] = cpu_flags,
    machine: str | None = None,
) -> str | None:
    """Point CTranslate2 and oneDNN at one instruction set; why not, or ``None`` when pinned.

    Overrides any value already set: a transcript that another machine can reproduce matters more here than
    a few percent of speed. Idempotent; cheap enough to call before every import of ``faster_whisper``.
    """
    env = os.environ if environ is None else environ
    arch = (machine or platform.machine()).lower()
    reason: str | None = None
    if arch not in _X86:
        reason = f"not an x86 processor ({arch})"
    elif not flags() >= _NEEDED_FLAGS:
        reason = "the processor has no AVX2/FMA (or its flags could not be read)"
    if reason is not None:
        if reason not in _noted:
            log.warning("speech kernels left to the machine (%s): transcripts may differ from other machines", reason)
            _noted.add(reason)
        return reason
    env.update(PINNED)
    late = numpy_kernels_beyond_avx2()
    if late and "numpy" not in _noted:
        log.warning(
            "numpy was imported before the backend package and uses %s kernels: Whisper's input may differ from "
            "other machines' (start the process with %s=%r)",
            "/".join(late),
            NUMPY_SWITCH,
            NUMPY_BEYOND_AVX2,
        )
        _noted.add("numpy")
    return None
