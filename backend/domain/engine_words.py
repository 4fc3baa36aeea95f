"""The engines in use, said in words a nurse understands: where speech, documents and records are handled.

The sidebar shows these lines to everyone; the provider names themselves (``store sqlite · stt whisper``) are
detail for the administrator. The wording is data: a provider missing here is shown by its own name.
"""

from __future__ import annotations

from collections.abc import Mapping

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
