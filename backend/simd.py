"""numpy's SIMD kernels capped at AVX2 for the whole process: the same audio, the same transcript, on every x86.

numpy chooses its kernels once, when it is first imported: on a processor with AVX-512 (AMD Zen 4 and 5, Intel
since Skylake-SP) its float functions (``log10``, ``exp``) take other code paths than on an AVX2-only one and
round some values differently. Whisper's input (the log-mel spectrogram faster-whisper computes with numpy) then
differs in its last bits, and at temperature 0 that is sometimes another word: on an AMD Zen 5, a test dialogue's
"I have had a cough" came out "I have a cup", with CTranslate2 and oneDNN already pinned to AVX2
(``backend.adapters.speech.whisper_numerics``). numpy's documented switch, ``NPY_DISABLE_CPU_FEATURES``, is set
by the ``backend`` package before any of its modules imports numpy; names this numpy does not know are ignored,
and a processor without AVX-512 is not changed at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping

# numpy 2's dispatch groups above X86_V3 (AVX2, FMA, F16C, BMI): every AVX-512 one.
NUMPY_BEYOND_AVX2 = "X86_V4 AVX512_ICL AVX512_SPR"
NUMPY_SWITCH = "NPY_DISABLE_CPU_FEATURES"


def cap_numpy(environ: MutableMapping[str, str] | None = None, modules: Mapping[str, object] | None = None) -> bool:
    """Ask numpy for its AVX2 kernels at most; False when too late (numpy is already imported in this process).

    A value the environment already gives is kept (someone chose it).
    """
    env = os.environ if environ is None else environ
    if "numpy" in (sys.modules if modules is None else modules):
        return False
    env.setdefault(NUMPY_SWITCH, NUMPY_BEYOND_AVX2)
    return True


def numpy_kernels_beyond_avx2() -> list[str]:
    """The dispatch groups above AVX2 that the numpy of this process uses (empty when capped or not there)."""
    import importlib

    umath = importlib.import_module("numpy._core._multiarray_umath")  # the table numpy.show_runtime() prints

    dispatch: list[str] = list(getattr(umath, "__cpu_dispatch__", []))
    features: dict[str, bool] = dict(getattr(umath, "__cpu_features__", {}))
    return [group for group in dispatch if group in NUMPY_BEYOND_AVX2.split() and features.get(group)]
