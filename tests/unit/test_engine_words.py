"""The sidebar's engines in words: where speech, documents, drafting and records are handled."""

from __future__ import annotations

from backend.domain.engine_words import engine_detail, plain_engines

OFFLINE = {
    "store": "sqlite",
    "blobs": "local",
    "queue": "sqlite",
    "stt": "whisper",
    "ocr": "rapidocr",
    "llm": "offline",
}


def test_the_offline_default_says_this_computer_throughout() -> None:
    assert plain_engines(OFFLINE) == [
        "Speech: on this computer (Whisper)",
        "Reading documents: on this computer",
        "Drafting notes: on this computer (rules)",
        "Records and files: this computer",
    ]


def test_cloud_engines_name_the_service_and_where_records_and_files_are_kept() -> None:
    cloud = {**OFFLINE, "store": "dynamodb", "blobs": "s3", "queue": "sqs", "stt": "transcribe", "llm": "gemini"}
    assert plain_engines(cloud) == [
        "Speech: Amazon Transcribe (AWS)",
        "Reading documents: on this computer",
        "Drafting notes: Google Gemini (online)",
        "Records: AWS DynamoDB",
        "Files: AWS S3",
    ]
    # Records in the cloud, recordings kept here: two places, two lines.
    assert plain_engines({**OFFLINE, "store": "dynamodb"})[-2:] == ["Records: AWS DynamoDB", "Files: this computer"]


def test_a_provider_without_words_is_shown_by_its_name_and_the_detail_keeps_every_name() -> None:
    assert plain_engines({**OFFLINE, "stt": "newstt"})[0] == "Speech: newstt"
    assert (
        engine_detail(OFFLINE) == "store sqlite · blobs local · queue sqlite · stt whisper · ocr rapidocr · llm offline"
    )
