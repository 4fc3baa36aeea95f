"""Live mode of the Scribe page: browser microphone over WebRTC (send-only) -> level meter and live captions.

On stop the whole recording goes through the normal pipeline as a WAV file. Only Streamlit/WebRTC glue lives
here; buffering, resampling, the meter and the caption throttle are behind the ``LiveAudio`` port.
streamlit-webrtc needs a real browser session (it fails under AppTest), so without one this shows a notice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st
from numpy.typing import NDArray

from backend.domain.errors import CopilotError
from backend.ports import LiveAudio, LiveCaptions, LiveRecording, Transcriber
from backend.services import scribe
from ui.safe import md_escape

if TYPE_CHECKING:
    from backend.services.access import Principal
    from backend.services.scribe import ScribeDeps
    from ui.runtime import App

# Browser and server talk over loopback or the clinic LAN: host candidates suffice, and no STUN/TURN
# server on the internet is ever contacted.
RTC_CONFIGURATION: dict[str, Any] = {"iceServers": []}
_METER_FLOOR_DB = -60.0  # the meter's empty end; speech at a normal distance sits around -30..-15 dBFS
_TOO_SHORT_S = 0.5  # less than this is a click on Start/Stop, not a recording: dropped without a message
_STOP_WAIT_S = 3.0


class _LiveSession:
    """Per-widget state in ``st.session_state``: the recording in progress and those that ended.

    ``on_frame`` and ``on_ended`` run on aiortc's event-loop thread; the script thread only reads.
    """

    def __init__(self, live: LiveAudio, max_seconds: float, get_transcriber: Callable[[], Transcriber] | None) -> None:
        self.live = live
        self.max_seconds = max_seconds
        self.get_transcriber = get_transcriber
        self.lock = threading.Lock()
        self.current: LiveRecording | None = None
        self.captioner: LiveCaptions | None = None
        self.finished: list[LiveRecording] = []

    def on_frame(self, frame: Any) -> None:
        with self.lock:
            if self.current is None:  # first frame of a new WebRTC session
                self.current = self.live.recording(self.max_seconds)
                self.captioner = None
                if self.get_transcriber is not None:
                    self.captioner = self.live.captions(self.current, self.get_transcriber)
                    self.captioner.start()
            recording = self.current
        recording.push_frame(frame)

    def on_ended(self) -> None:
        with self.lock:
            recording, self.current = self.current, None
            if recording is not None:
                self.finished.append(recording)
        if recording is not None:
            recording.finish()  # also ends the caption thread
        if self.captioner is not None:
            self.captioner.stop()

    def has_finished(self) -> bool:
        with self.lock:
            return bool(self.finished)

    def take_finished(self) -> list[LiveRecording]:
        """Recordings that ended, each handed out once (so a rerun never submits twice)."""
        with self.lock:
            done, self.finished = self.finished, []
        return done


@st.fragment(run_every=1.0)
def _live_panel(session: _LiveSession) -> None:
    if session.has_finished():
        # The track ended (Stop, or the connection went) while the page still draws the recorder: the page's
        # full run submits the recording, whatever state the component reported last.
        st.rerun(scope="app")
    recording, captioner = session.current, session.captioner
    if recording is None:
        st.caption("Connecting to the microphone…")
        return
    db = recording.level_dbfs()
    fill = min(1.0, max(0.0, (db - _METER_FLOOR_DB) / -_METER_FLOOR_DB))
    level = "silence" if db <= session.live.floor_dbfs else f"{db:.0f} dBFS"
    minutes, seconds = divmod(int(recording.duration_s), 60)
    st.progress(fill, text=f":red[●] Recording {minutes}:{seconds:02d} · level {level}")
    if recording.full:
        st.warning(
            f"The {session.max_seconds / 60:.0f}-minute limit is reached; later audio is not kept. "
            "Press Stop to create the draft."
        )
    if captioner is None:
        return
    if captioner.error:
        st.caption(md_escape(captioner.error))
    elif captioner.text:
        st.markdown(f"**Live captions** (last 20 s, draft quality): {md_escape(captioner.text)}")
    else:
        st.caption("Live captions appear every few seconds while someone speaks.")


def live_recorder(
    key: str,
    live: LiveAudio,
    on_stop: Callable[[bytes], None],
    get_transcriber: Callable[[], Transcriber] | None = None,
    is_silent: Callable[[NDArray[np.float32]], bool] | None = None,
    max_seconds: float | None = None,
) -> None:
    """Render the live recorder; call ``on_stop(wav_bytes)`` once per finished recording that holds speech.

    Args:
        key: Widget key (also scopes the session state this widget keeps).
        live: The app's live capture (``app.live_audio()``).
        on_stop: Receives the whole recording as a 16 kHz mono 16-bit WAV file.
        get_transcriber: The engine for rough captions of the last ~20 s every ~4 s, in a background thread;
            ``None`` shows no captions.
        is_silent: Says "no speech" for a recording; such recordings are not passed to ``on_stop``.
        max_seconds: Longest recording kept (default: the live capture's own limit).
    """
    if not st.context.headers:
        st.info("Live mode needs a browser session (it streams the microphone over WebRTC).")
        return
    from streamlit_webrtc import WebRtcMode, create_audio_sink_track, webrtc_streamer  # aiortc: import on use

    state_key = f"{key}_live_session"
    if state_key not in st.session_state:
        st.session_state[state_key] = _LiveSession(live, max_seconds or live.max_seconds, get_transcriber)
    session: _LiveSession = st.session_state[state_key]
    # A no-drop sink: every frame reaches the buffer on aiortc's thread, whatever the script is doing.
    sink = create_audio_sink_track(session.on_frame, key=f"{key}_sink", on_ended=session.on_ended)
    ctx = webrtc_streamer(
        key=key,
        mode=WebRtcMode.SENDONLY,
        rtc_configuration=RTC_CONFIGURATION,
        media_stream_constraints={"audio": True, "video": False},
        sink_audio_track=sink,
        translations={"start": "Start live recording", "stop": "Stop and create draft"},
    )
    connected = ctx.state.playing or ctx.state.signalling
    if not connected:
        deadline = time.monotonic() + _STOP_WAIT_S
        while session.current is not None and time.monotonic() < deadline:
            time.sleep(0.05)  # Stop was pressed: the last frames and the track's end are on their way
        if session.current is not None:
            session.on_ended()  # the connection vanished without an end event
    # A recording whose track ended is submitted by the first full run that sees it, even one where the
    # component still reports the connection: the end of the audio, not the widget's last value, decides.
    _submit_finished(session, on_stop, is_silent)
    if connected:
        _live_panel(session)


def _submit_finished(
    session: _LiveSession, on_stop: Callable[[bytes], None], is_silent: Callable[[NDArray[np.float32]], bool] | None
) -> None:
    for recording in session.take_finished():
        if recording.duration_s < _TOO_SHORT_S:
            continue
        if is_silent is not None and is_silent(recording.samples()):
            st.warning(scribe.NO_SPEECH)
            continue
        on_stop(recording.to_wav())


def live_tab(
    app: App,
    principal: Principal,
    patient_id: str,
    deps: ScribeDeps,
    submit: Callable[[bytes, str, str], object] | None = None,
) -> None:
    """The Scribe page's "Live" tab: live recorder wired to the app's transcriber and the scribe pipeline.

    Args:
        app: The running ``App`` (its live capture).
        principal: The signed-in user.
        patient_id: Patient the recording belongs to.
        deps: ``app.scribe_deps()``.
        submit: The page's ``submit(data, filename, source)`` (it shows the result and follows the job);
            without it the recording is submitted here.
    """

    def on_stop(wav: bytes) -> None:
        if submit is not None:
            submit(wav, "live.wav", "live")
            return
        try:
            job = scribe.submit_recording(deps, principal, patient_id, wav, "live.wav", "live")
        except CopilotError as e:
            st.error(md_escape(e.message))
        else:
            st.success(f"Recording saved. Job {job.job_id} is queued — you can leave this page and come back.")

    st.caption(
        "Live mode streams the microphone while you talk: a level meter and rough captions every few seconds. "
        "When you stop, the whole recording is transcribed properly and drafted like any other."
    )
    live_recorder(
        f"scribe_live_{patient_id}",
        app.live_audio(),
        on_stop,
        get_transcriber=deps.transcriber,
        is_silent=deps.codec.is_silent,
        max_seconds=float(deps.limits.max_audio_seconds),
    )
