"""Live recording: a thread-safe, bounded buffer of 16 kHz mono audio fed frame by frame, and live captions.

``LiveRecording`` takes WebRTC audio frames (``av.AudioFrame``: any rate, layout, s16/flt, packed or planar)
or raw arrays, resamples them with PyAV to 16 kHz mono, keeps them as int16 (60 min = 115 MB), reports the
current level in dBFS for a meter, and exports a WAV file for the normal scribe pipeline.

``PartialCaptioner`` transcribes the last ~20 s every ~4 s in its own thread: the audio callback only appends
samples, so a slow transcription can never stall the WebRTC receive loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from backend import ports
from backend.adapters.audio.decode import encode_wav, is_silent
from backend.domain.errors import CopilotError, ProviderUnavailable
from backend.ports import PartialTranscriber

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 3600.0
FLOOR_DBFS = -100.0  # what digital silence reports (log of zero)
_LEVEL_WINDOW_S = 0.3  # a meter that follows syllables without flickering
_LAYOUTS = {1: "mono", 2: "stereo"}


def level_dbfs(samples: NDArray[Any]) -> float:
    """RMS level in dBFS (0 = full-scale square wave; a full-scale sine is about -3) of int16 or float samples."""
    if samples.size == 0:
        return FLOOR_DBFS
    x = samples.astype(np.float64) / 32768.0 if samples.dtype == np.int16 else samples.astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x)))
    return max(FLOOR_DBFS, 20.0 * float(np.log10(rms))) if rms > 0 else FLOOR_DBFS


class LiveRecording:
    """Audio of one live session, safe to feed from one thread and read from others.

    Args:
        max_seconds: The recording stops growing at this length; ``full`` turns true and later audio is
            counted in ``dropped_s`` (the same 60 min default as uploads).
    """

    def __init__(self, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.max_samples = int(max_seconds * SAMPLE_RATE)
        self._chunks: list[NDArray[np.int16]] = []
        self._total = 0
        self._dropped = 0
        self._lock = threading.Lock()
        self._resampler: av.AudioResampler | None = None
        self._resampler_input: tuple[str, str, int] | None = None
        self._ended = threading.Event()

    # -- writing (the WebRTC receive thread) --------------------------------------------------------------------

    def push_frame(self, frame: av.AudioFrame) -> None:
        """Append one decoded frame of any rate/layout/sample format (resampled to 16 kHz mono int16)."""
        signature = (frame.format.name, frame.layout.name, int(frame.sample_rate))
        with self._lock:
            if signature != self._resampler_input:
                # PyAV's resampler is bound to its first input format: flush it and start a new one.
                self._flush_resampler()
                self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
                self._resampler_input = signature
            assert self._resampler is not None
            for out in self._resampler.resample(frame):
                self._append(out.to_ndarray().reshape(-1).astype(np.int16, copy=False))

    def push_samples(self, samples: NDArray[Any], sample_rate: int, channels: int = 1) -> None:
        """Append raw samples: int16 or float in [-1, 1], interleaved 1-D or shaped (n, channels)."""
        data = np.asarray(samples)
        if data.dtype == np.int16:
            mono = data.astype(np.float32) / 32768.0
        elif data.dtype.kind == "f":
            mono = data.astype(np.float32)
        else:
            raise ValueError(f"live audio must be int16 or float samples, not {data.dtype}")
        if mono.ndim == 1 and channels > 1:
            mono = mono[: len(mono) // channels * channels].reshape(-1, channels)
        if mono.ndim == 2:
            mono = mono.mean(axis=1)
        frame = av.AudioFrame.from_ndarray(np.clip(mono, -1.0, 1.0).reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = int(sample_rate)
        self.push_frame(frame)

    def finish(self) -> None:
        """No more audio will come: flush the resampler's tail and wake anyone waiting in ``wait_ended``."""
        with self._lock:
            self._flush_resampler()
        self._ended.set()

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            for out in self._resampler.resample(None):
                self._append(out.to_ndarray().reshape(-1).astype(np.int16, copy=False))
        self._resampler, self._resampler_input = None, None

    def _append(self, chunk: NDArray[np.int16]) -> None:
        room = self.max_samples - self._total
        if room <= 0:
            self._dropped += len(chunk)
            return
        if len(chunk) > room:
            self._dropped += len(chunk) - room
            chunk = chunk[:room]
        self._chunks.append(chunk.copy())  # the resampler reuses its output buffers
        self._total += len(chunk)

    # -- reading (the page and the caption thread) --------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def wait_ended(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for :meth:`finish`; True once it was called."""
        return self._ended.wait(timeout)

    @property
    def total_samples(self) -> int:
        return self._total

    @property
    def duration_s(self) -> float:
        return self._total / SAMPLE_RATE

    @property
    def full(self) -> bool:
        """True once the maximum duration is reached (later audio is not kept)."""
        return self._total >= self.max_samples

    @property
    def dropped_s(self) -> float:
        return self._dropped / SAMPLE_RATE

    def tail(self, seconds: float) -> NDArray[np.float32]:
        """The last ``seconds`` of audio as 16 kHz mono float32 in [-1, 1]."""
        want = max(0, int(seconds * SAMPLE_RATE))
        parts: list[NDArray[np.int16]] = []
        with self._lock:
            have = 0
            for chunk in reversed(self._chunks):
                if have >= want:
                    break
                parts.append(chunk)
                have += len(chunk)
        if not parts:
            return np.zeros(0, dtype=np.float32)
        joined = np.concatenate(parts[::-1])[-want:] if want else np.zeros(0, dtype=np.int16)
        return joined.astype(np.float32) / 32768.0

    def level_dbfs(self) -> float:
        """Level of the last 0.3 s in dBFS (``FLOOR_DBFS`` before any audio arrived)."""
        return level_dbfs(self.tail(_LEVEL_WINDOW_S))

    def samples(self) -> NDArray[np.float32]:
        """The whole recording as 16 kHz mono float32 in [-1, 1]."""
        with self._lock:
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        return pcm.astype(np.float32) / 32768.0

    def to_wav(self) -> bytes:
        """The whole recording as a 16-bit mono 16 kHz WAV file (what ``st.audio_input`` produces too)."""
        with self._lock:
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        return encode_wav(pcm)


def partial_text_fn(get_transcriber: Callable[[], Any]) -> Callable[[NDArray[np.float32]], str]:
    """Caption function over the app's transcriber, resolved on first use (loading Whisper can take seconds).

    Raises (when called):
        ProviderUnavailable: the live engine has no fast partial path (cloud engines, pocketsphinx).
    """

    def transcribe(samples: NDArray[np.float32]) -> str:
        transcriber = get_transcriber()
        if not isinstance(transcriber, PartialTranscriber):
            name = getattr(transcriber, "name", "this speech engine")
            raise ProviderUnavailable(
                f"Live captions need the offline Whisper engine ({name} is in use); "
                "the full transcript is still made when you stop."
            )
        return " ".join(s.text.strip() for s in transcriber.transcribe_partial(samples) if s.text.strip())

    return transcribe


class PartialCaptioner:
    """Re-transcribes the last ``window_s`` of a live recording at most every ``interval_s``, in a daemon thread.

    Args:
        recording: The live buffer to read.
        transcribe: Samples -> text (e.g. :func:`partial_text_fn`); may be slow, runs outside every lock.
        window_s: Length of audio transcribed each time (Whisper's window is 30 s; 20 s keeps each run ~2 s).
        interval_s: Least time between the starts of two runs (runs never overlap).
        min_new_s: Skip a run until this much new audio arrived since the last one.
        clock: Monotonic seconds (tests pass a fake).
    """

    def __init__(
        self,
        recording: LiveRecording,
        transcribe: Callable[[NDArray[np.float32]], str],
        window_s: float = 20.0,
        interval_s: float = 4.0,
        min_new_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recording = recording
        self._transcribe = transcribe
        self.window_s, self.interval_s, self.min_new_s = window_s, interval_s, min_new_s
        self._clock = clock
        self._last_start: float | None = None
        self._last_total = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.text = ""
        self.error: str | None = None
        self.runs = 0
        self.last_latency_s: float | None = None

    def due(self) -> bool:
        """True when enough time passed and enough new audio arrived for another run."""
        if self.error is not None:
            return False
        if self.recording.total_samples - self._last_total < self.min_new_s * SAMPLE_RATE:
            return False
        return self._last_start is None or self._clock() - self._last_start >= self.interval_s

    def poll(self) -> bool:
        """Run one caption pass if due (the thread calls this; tests call it directly). True if it ran."""
        if not self.due():
            return False
        self._last_start = self._clock()
        self._last_total = self.recording.total_samples
        window = self.recording.tail(self.window_s)
        if is_silent(window):
            # Whisper without VAD invents words ("Thank you.") on silence: show nothing rather than that.
            self.text = ""
            return True
        started = time.perf_counter()
        try:
            self.text = self._transcribe(window)
        except CopilotError as e:
            self.error = e.message  # e.g. no partial path in this engine: stop trying, say why
        except Exception as e:  # a caption failure must never break the recording itself
            log.exception("live caption failed")
            self.error = f"Live captions stopped ({type(e).__name__}); the recording continues."
        self.runs += 1
        self.last_latency_s = time.perf_counter() - started
        return True

    def start(self, tick_s: float = 0.25) -> None:
        """Start the daemon thread; it ends on :meth:`stop` or when the recording ends."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, args=(tick_s,), name="live-captions", daemon=True)
        self._thread.start()

    def _loop(self, tick_s: float) -> None:
        while not self._stop.wait(tick_s) and not self.recording.ended:
            self.poll()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end; waits up to ``timeout`` seconds (``None``: do not wait)."""
        self._stop.set()
        if self._thread is not None and timeout is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class PyAvLiveAudio:
    """:class:`backend.ports.LiveAudio` over PyAV resampling and the app's transcriber (what the app builds)."""

    floor_dbfs = FLOOR_DBFS
    max_seconds = DEFAULT_MAX_SECONDS

    def recording(self, max_seconds: float) -> LiveRecording:
        """A new bounded buffer for one WebRTC session."""
        return LiveRecording(max_seconds)

    def captions(self, recording: ports.LiveRecording, get_transcriber: Callable[[], Any]) -> PartialCaptioner:
        """Rough captions of ``recording``, one this class made (not started: call ``start()``)."""
        if not isinstance(recording, LiveRecording):
            raise TypeError("captions need a recording made by PyAvLiveAudio.recording()")
        return PartialCaptioner(recording, partial_text_fn(get_transcriber))
