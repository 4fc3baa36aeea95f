"""The engines in use, said in words a nurse understands: where speech, documents and records are handled.

The sidebar shows these lines to everyone; the provider names themselves (``store sqlite · stt whisper``) are
detail for the administrator. The wording is data: a provider missing here is shown by its own name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

HERE = "this computer"
# port -> (what a nurse calls it, provider -> where it happens)
PLAIN: dict[str, tuple[str, dict[str, str]]] = {
    "stt": (
        "Speech",
        {
            "whisper": "on this computer (Whisper)",
            "sphinx": "on this computer (basic backup recogniser)",
            "transcribe": "Amazon Transcribe (AWS)",
            "gemini": "Google Gemini (online)",
        },
    ),
    "ocr": ("Reading documents", {"rapidocr": "on this computer", "textract": "Amazon Textract (AWS)"}),
    "llm": (
        "Drafting notes",
        {
            "offline": "on this computer (rules)",
            "gemini": "Google Gemini (online)",
            "bedrock": "Amazon Bedrock (AWS)",
            "openai": "the clinic's language model server",
        },
    ),
}
STORES = {"sqlite": HERE, "dynamodb": "AWS DynamoDB"}
FILES = {"local": HERE, "s3": "AWS S3"}


def plain_engines(providers: Mapping[str, str]) -> list[str]:
    """One line per part of the app: ``Speech: on this computer (Whisper)``, ``Records: this computer``.

    Args:
        providers: port -> provider name, as bootstrap resolved them (``App.providers``).

    Returns:
        Lines for speech, documents and drafting, then where records and files are kept (one line when both
        are in the same place). The job queue is left out: it is plumbing, not a place a record lives.
    """
    lines = []
    for port, (what, where) in PLAIN.items():
        if port in providers:
            lines.append(f"{what}: {where.get(providers[port], providers[port])}")
    records = STORES.get(providers.get("store", ""), providers.get("store", ""))
    files = FILES.get(providers.get("blobs", ""), providers.get("blobs", ""))
    if records and records == files:
        lines.append(f"Records and files: {records}")
    else:
        lines += [f"{label}: {place}" for label, place in (("Records", records), ("Files", files)) if place]
    return lines


def engine_detail(providers: Mapping[str, str]) -> str:
    """``store sqlite · blobs local · queue sqlite · stt whisper · …``: the provider names, for an administrator."""
    return " · ".join(f"{port} {name}" for port, name in providers.items())


# What really ran for one recording or document. A cloud engine hands over to the offline one with a banner
# (``backend.adapters.fallback.banner``) that the note keeps in ``Provenance.engine_fallback``; the words below
# retell it for a nurse: which engine did the work, where, and why the configured one did not.
_KINDS = "Transcribed|Drafted|Read"
_HAND_OVER = re.compile(
    rf"(?P<kind>{_KINDS}) by the offline engine \((?P<offline>[^)]*)\) because (?P<cloud>\S+) is unavailable: "
    rf"(?P<reason>.*?)(?=\s*(?:{_KINDS}) by the offline engine \(|\s*$)",
    re.DOTALL,
)
_WHISPER_SIZE = re.compile(r"\b(tiny|base|small|medium|large(?:-v\d)?|turbo|distil-[a-z0-9.-]+)(?:\.en)?$")
CHECK_WORDS = "check every word against the audio"
# engine name prefix -> words (the first that matches; names as engines report them, e.g. ``gemini:<model>``)
ENGINE_WORDS = (
    ("whisper", "Whisper"),
    ("pocketsphinx", "the basic backup recogniser (pocketsphinx)"),
    ("sphinx", "the basic backup recogniser (pocketsphinx)"),
    ("rules", "the rule-based drafter"),
    ("rapidocr", "RapidOCR"),
    ("aws-transcribe-medical", "Amazon Transcribe Medical (AWS)"),
    ("aws-transcribe", "Amazon Transcribe (AWS)"),
    ("transcribe", "Amazon Transcribe (AWS)"),
    ("textract", "Amazon Textract (AWS)"),
    ("gemini", "Google Gemini (online)"),
    ("bedrock", "Amazon Bedrock (AWS)"),
    ("azure-openai", "Azure OpenAI (online)"),
    ("openai", "the clinic's language model server"),
)


@dataclass(frozen=True)
class HandOver:
    """One hand-over from a cloud engine to the offline one, as its banner tells it."""

    kind: str  # Transcribed | Drafted | Read
    offline: str  # the engine's name (``whisper-faster-whisper-base``, ``pocketsphinx``, ``rules``, ``rapidocr``)
    cloud: str  # the configured engine that was unavailable (``aws-transcribe-medical``, ``gemini:gemini-2.5-flash``)
    reason: str


def hand_overs(banner_text: str | None) -> list[HandOver]:
    """The hand-overs a fallback banner tells (a note's may hold two: speech, drafting); none if not in that form."""
    return [
        HandOver(m["kind"], m["offline"].strip(), m["cloud"], m["reason"].strip().rstrip("."))
        for m in _HAND_OVER.finditer(banner_text or "")
    ]


def engine_words(name: str) -> str:
    """An engine's name in words: ``whisper-faster-whisper-base`` -> ``Whisper base``; unknown names as they are."""
    low = name.lower()
    words = next((w for prefix, w in ENGINE_WORDS if low.startswith(prefix)), name)
    size = _WHISPER_SIZE.search(low) if words == "Whisper" else None
    return f"{words} {size[1]}" if size else words  # the model size, from the folder or hub name


def what_ran(engine_fallback: str | None, low_accuracy_engine: str | None, configured_stt: str = "") -> list[str]:
    """What really did the work on a note, one sentence per part, where it is not the engine the sidebar names.

    ``Transcribed offline on this computer by Whisper base because Amazon Transcribe (AWS) was unavailable:
    quota exceeded.`` A banner not in the hand-over form is returned as written; a low-accuracy speech engine
    that took over from Whisper (its model could not be loaded) is named with the check it calls for.

    Args:
        engine_fallback: ``Provenance.engine_fallback`` of the note.
        low_accuracy_engine: ``Provenance.low_accuracy_engine`` (the low-accuracy speech engine that transcribed).
        configured_stt: the speech provider configured now (``App.providers["stt"]``): ``sphinx`` means the
            basic recogniser was chosen, not a fallback.
    """
    found = hand_overs(engine_fallback)
    lines = []
    for h in found:
        line = (
            f"{h.kind} offline on this computer by {engine_words(h.offline)} because {engine_words(h.cloud)} "
            f"was unavailable: {h.reason}."
        )
        lines.append(line + (f" It is the low-accuracy backup: {CHECK_WORDS}." if _low(h, low_accuracy_engine) else ""))
    if engine_fallback and not found:
        lines.append(engine_fallback.strip())
    if low_accuracy_engine and not any(_low(h, low_accuracy_engine) for h in found):
        why = "as configured" if configured_stt == "sphinx" else "not Whisper (the speech model could not be loaded)"
        lines.append(f"Transcribed on this computer by {engine_words(low_accuracy_engine)}, {why}: {CHECK_WORDS}.")
    return lines


def _low(h: HandOver, low_accuracy_engine: str | None) -> bool:
    return h.kind == "Transcribed" and bool(low_accuracy_engine) and h.offline == low_accuracy_engine


def live_instead(port: str, fallback_banner: str | None) -> str | None:
    """The sidebar's line when the last call on ``port`` was served by the offline engine instead of the cloud one.

    ``Speech now: on this computer (Whisper base), because Amazon Transcribe (AWS) was unavailable at the last
    recording: quota exceeded``. None when the configured engine served (or nothing ran yet).
    """
    found = hand_overs(fallback_banner)
    if not found or port not in PLAIN:
        return None
    h, what = found[-1], PLAIN[port][0]
    return (
        f"{what} now: on this computer ({engine_words(h.offline)}), because {engine_words(h.cloud)} was unavailable "
        f"at the last try: {h.reason}"
    )
