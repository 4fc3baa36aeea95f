"""Live recording buffer and caption throttle: frames of any shape in, 16 kHz mono out, bounded, never blocking."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest

from backend.adapters.audio.decode import decode_audio
from backend.adapters.audio.live import (
    FLOOR_DBFS,
    SAMPLE_RATE,
    LiveRecording,
    PartialCaptioner,
    level_dbfs,
    partial_text_fn,
)
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment
from tests.helpers.speech import tone_bursts


def sine(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def webrtc_frames(
    signal: np.ndarray, rate: int = 48_000, per_frame: int = 960, fmt: str = "s16"
) -> list[av.AudioFrame]:
    """What aiortc hands over for Opus: 20 ms stereo frames at 48 kHz with running pts."""
    frames = []
    for i in range(0, len(signal) - per_frame + 1, per_frame):
        mono = signal[i : i + per_frame]
        if fmt == "s16":
            data = (np.repeat(mono, 2) * 32767).astype(np.int16).reshape(1, -1)  # packed L R L R
        else:  # fltp: one plane per channel
            data = np.stack([mono, mono]).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="stereo")
        frame.sample_rate = rate
        frame.pts = i
        frames.append(frame)
    return frames


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("fmt", "rate"), [("s16", 48_000), ("fltp", 44_100)])
def test_webrtc_frames_become_16k_mono_with_pitch_and_level_kept(fmt: str, rate: int) -> None:
    rec = LiveRecording()
    for frame in webrtc_frames(sine(440, 2.0, rate), rate=rate, per_frame=rate // 50, fmt=fmt):
        rec.push_frame(frame)
    rec.finish()
    out = rec.samples()
    assert out.dtype == np.float32
    assert rec.duration_s == pytest.approx(2.0, abs=0.02)
    assert dominant_hz(out[4000:-4000]) == pytest.approx(440, abs=3)
    # 0.5 amplitude sine: RMS 0.354 -> -9.0 dBFS; both channels carried the same signal, so the downmix keeps it.
    assert level_dbfs(out[4000:-4000]) == pytest.approx(-9.03, abs=0.2)


def test_input_format_change_mid_stream_keeps_both_parts() -> None:
    rec = LiveRecording()
    for frame in webrtc_frames(sine(300, 1.0, 48_000), rate=48_000):
        rec.push_frame(frame)
    rec.push_samples(sine(1000, 1.0, 8_000), sample_rate=8_000)  # e.g. a renegotiated narrow-band codec
    rec.finish()
    out = rec.samples()
    assert rec.duration_s == pytest.approx(2.0, abs=0.03)
    assert dominant_hz(out[2000:14000]) == pytest.approx(300, abs=3)
    assert dominant_hz(out[-12000:-2000]) == pytest.approx(1000, abs=3)


def test_push_samples_accepts_interleaved_int16_stereo_and_shaped_float() -> None:
    rec = LiveRecording()
    left = (sine(500, 1.0, 22_050) * 32767).astype(np.int16)
    rec.push_samples(np.stack([left, left], axis=1).reshape(-1), sample_rate=22_050, channels=2)
    rec.push_samples(np.stack([sine(500, 1.0, 16_000)] * 2, axis=1), sample_rate=16_000, channels=2)
    rec.finish()
    assert rec.duration_s == pytest.approx(2.0, abs=0.02)
    assert dominant_hz(rec.samples()) == pytest.approx(500, abs=3)
    with pytest.raises(ValueError, match="int16 or float"):
        rec.push_samples(np.zeros(10, dtype=np.int32), sample_rate=16_000)


def test_level_meter_in_dbfs_follows_the_last_fraction_of_a_second() -> None:
    assert level_dbfs(np.zeros(100, dtype=np.float32)) == FLOOR_DBFS
    assert level_dbfs(np.zeros(0, dtype=np.int16)) == FLOOR_DBFS
    assert level_dbfs(np.full(100, 32767, dtype=np.int16)) == pytest.approx(0.0, abs=0.01)
    assert level_dbfs(sine(1000, 1, 16_000, amp=1.0)) == pytest.approx(-3.01, abs=0.05)
    assert level_dbfs(sine(1000, 1, 16_000, amp=0.1)) == pytest.approx(-23.01, abs=0.05)

    rec = LiveRecording()
    assert rec.level_dbfs() == FLOOR_DBFS  # nothing arrived yet
    rec.push_samples(sine(440, 1.0, 16_000, amp=0.5), 16_000)
    loud = rec.level_dbfs()
    rec.push_samples(np.zeros(SAMPLE_RATE // 2, dtype=np.float32), 16_000)
    rec.finish()
    assert loud == pytest.approx(-9.0, abs=0.5)
    assert rec.level_dbfs() == FLOOR_DBFS  # the speaker paused: the meter drops at once


def test_recording_is_bounded_by_max_duration() -> None:
    rec = LiveRecording(max_seconds=2.0)
    for _ in range(5):
        rec.push_samples(sine(440, 1.0, 16_000), 16_000)
    rec.finish()
    assert rec.full
    assert rec.total_samples == 2 * SAMPLE_RATE
    assert rec.dropped_s == pytest.approx(3.0, abs=0.01)
    assert len(rec.samples()) == 2 * SAMPLE_RATE


def test_wav_export_round_trips_through_the_upload_decoder() -> None:
    rec = LiveRecording()
    signal = tone_bursts(seconds=3.0)
    for frame in webrtc_frames(np.interp(np.arange(3 * 48_000) / 3, np.arange(len(signal)), signal).astype(np.float32)):
        rec.push_frame(frame)
    rec.finish()
    wav = rec.to_wav()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    decoded = decode_audio(wav)
    assert len(decoded) == rec.total_samples
    assert np.allclose(decoded, rec.samples(), atol=1 / 16_000)
    # The resampled speech-like signal lines up with the original (a short filter delay at most).
    assert np.corrcoef(decoded[800:-800], signal[800 : len(decoded) - 800])[0, 1] > 0.95


def test_empty_recording_exports_a_valid_empty_wav() -> None:
    rec = LiveRecording()
    rec.finish()
    assert rec.duration_s == 0
    assert rec.tail(20).size == 0
    assert rec.to_wav()[:4] == b"RIFF"


def test_tail_returns_exactly_the_last_seconds() -> None:
    rec = LiveRecording()
    ramp = (np.arange(10 * SAMPLE_RATE) / (10 * SAMPLE_RATE)).astype(np.float32)
    for i in range(0, len(ramp), 320):
        rec.push_samples(ramp[i : i + 320], 16_000)
    tail = rec.tail(2.5)
    assert len(tail) == int(2.5 * SAMPLE_RATE)
    assert tail[-1] == pytest.approx(ramp[-1], abs=1e-4)
    assert tail[0] == pytest.approx(ramp[-len(tail)], abs=1e-4)
    assert len(rec.tail(60)) == rec.total_samples


def test_reading_while_another_thread_writes_is_consistent() -> None:
    rec = LiveRecording()
    frames = webrtc_frames(sine(440, 3.0, 48_000))
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for f in frames:
                rec.push_frame(f)
        except BaseException as e:  # surfaced below
            errors.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        assert len(rec.tail(0.5)) <= 0.5 * SAMPLE_RATE
        rec.level_dbfs()
        assert len(rec.samples()) <= rec.total_samples + 1  # a snapshot never exceeds what was appended
    writer.join()
    rec.finish()
    assert not errors
    assert rec.duration_s == pytest.approx(3.0, abs=0.02)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class RecordingTranscriber:
    """Honest fake: says how much audio it was given and whether it was loud, and remembers each call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, samples: np.ndarray) -> str:
        self.calls.append(len(samples))
        return f"{len(samples) / SAMPLE_RATE:.1f} seconds heard"


# Only a bound for a test that would otherwise hang: every wait below ends at its event.
BOUND_S = 30.0


class GatedTranscriber(RecordingTranscriber):
    """A caption engine as slow as the test wants: each run says it started, then holds until released."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, samples: np.ndarray) -> str:
        self.started.set()
        self.release.wait(BOUND_S)
        return super().__call__(samples)


def test_captioner_throttles_runs_and_transcribes_only_the_last_window() -> None:
    rec, clock, fake = LiveRecording(), FakeClock(), RecordingTranscriber()
    cap = PartialCaptioner(rec, fake, window_s=20.0, interval_s=4.0, min_new_s=1.0, clock=clock)
    rec.push_samples(tone_bursts(0.5), 16_000)
    assert not cap.poll()  # under 1 s of new audio
    rec.push_samples(tone_bursts(29.5), 16_000)
    assert cap.poll()
    assert cap.text == "20.0 seconds heard"  # 30 s recorded, only the last 20 s transcribed
    rec.push_samples(tone_bursts(3.0), 16_000)
    clock.now = 3.9
    assert not cap.poll()  # new audio, but too soon
    clock.now = 4.0
    assert cap.poll()
    clock.now = 9.0
    assert not cap.poll()  # due by time, but nothing new arrived
    assert fake.calls == [20 * SAMPLE_RATE, 20 * SAMPLE_RATE]
    assert cap.runs == 2


def test_captioner_shows_nothing_for_silence_instead_of_whisper_hallucinations() -> None:
    rec, fake = LiveRecording(), RecordingTranscriber()
    cap = PartialCaptioner(rec, fake, clock=FakeClock())
    rec.push_samples(np.random.default_rng(0).normal(0, 0.001, 5 * SAMPLE_RATE).astype(np.float32), 16_000)
    assert cap.poll()
    assert cap.text == ""
    assert fake.calls == []


def test_captioner_reports_an_engine_without_partial_path_and_stops_trying() -> None:
    class CloudEngine:
        name = "aws-transcribe"

        def transcribe(self, samples: np.ndarray) -> list[Segment]:
            raise AssertionError("the batch path must not be used for captions")

    rec, clock = LiveRecording(), FakeClock()
    cap = PartialCaptioner(rec, partial_text_fn(CloudEngine), clock=clock)
    rec.push_samples(tone_bursts(3.0), 16_000)
    assert cap.poll()
    assert cap.error is not None and "aws-transcribe" in cap.error
    rec.push_samples(tone_bursts(3.0), 16_000)
    clock.now = 100
    assert not cap.poll()


def test_captioner_survives_an_unexpected_engine_crash() -> None:
    def broken(samples: np.ndarray) -> str:
        raise RuntimeError("boom")

    rec = LiveRecording()
    cap = PartialCaptioner(rec, broken, clock=FakeClock())
    rec.push_samples(tone_bursts(2.0), 16_000)
    assert cap.poll()
    assert cap.error is not None and "recording continues" in cap.error


def test_partial_text_fn_joins_the_fast_path_segments_and_resolves_the_engine_lazily() -> None:
    class Whisperish:
        name = "whisper-base"

        def transcribe_partial(self, samples: np.ndarray) -> list[Segment]:
            return [
                Segment(id=0, start=0, end=1, text=" Fever for three days. "),
                Segment(id=1, start=1, end=2, text="  "),
            ]

    built: list[int] = []

    def factory() -> Whisperish:
        built.append(1)
        return Whisperish()

    fn = partial_text_fn(factory)
    assert built == []  # nothing loaded until the first caption
    assert fn(np.zeros(16_000, dtype=np.float32)) == "Fever for three days."
    with pytest.raises(ProviderUnavailable):
        partial_text_fn(lambda: object())(np.zeros(10, dtype=np.float32))


def test_slow_captions_never_block_the_audio_callback() -> None:
    rec, fake = LiveRecording(), GatedTranscriber()
    cap = PartialCaptioner(rec, fake, interval_s=0.1, min_new_s=0.5, clock=FakeClock())
    frames = webrtc_frames(tone_bursts(4.0, level=0.5).repeat(3), rate=48_000)
    first_second = frames[:50]  # 50 frames of 20 ms: enough new audio for a caption run
    for frame in first_second:
        rec.push_frame(frame)
    cap.start(tick_s=0.01)
    assert fake.started.wait(BOUND_S), "the caption thread never ran"
    # A caption run is in progress and cannot end until released: every later frame must still go in meanwhile.
    pusher = threading.Thread(target=lambda: [rec.push_frame(f) for f in frames[len(first_second) :]], daemon=True)
    pusher.start()
    pusher.join(BOUND_S)
    blocked = pusher.is_alive()
    fake.release.set()
    assert not blocked, "pushing audio frames waited for the running caption"
    rec.finish()
    cap.stop(timeout=BOUND_S)
    # One run (the fake clock never makes another due), on the first second at 16 kHz less the resampler's delay.
    assert len(fake.calls) == 1 and fake.calls[0] == pytest.approx(SAMPLE_RATE, abs=SAMPLE_RATE // 100)
    assert not cap.alive
    assert rec.duration_s == pytest.approx(4.0, abs=0.03)


def test_the_live_audio_port_makes_bounded_recordings_and_refuses_foreign_ones() -> None:
    from backend.adapters.audio.live import PyAvLiveAudio

    live = PyAvLiveAudio()
    recording = live.recording(max_seconds=1.0)
    recording.push_samples(np.zeros(32_000, dtype=np.float32), 16_000)  # two seconds into a one-second buffer
    assert recording.full and recording.duration_s == 1.0
    assert live.captions(recording, lambda: None).text == ""  # not started: nothing captioned yet
    with pytest.raises(TypeError):
        live.captions(object(), lambda: None)  # type: ignore[arg-type]
