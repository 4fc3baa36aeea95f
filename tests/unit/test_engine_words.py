"""The engines in words: where speech, documents, drafting and records are handled, and what really ran when a
fallback engine stood in."""

from __future__ import annotations

from backend.adapters.fallback import banner
from backend.domain.engine_words import engine_detail, engine_words, hand_overs, live_instead, plain_engines, what_ran

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


# What really ran: the banners are made by the fallback wrappers' own function, so a change of their wording that
# the words no longer read fails here.
WHISPER = "whisper-faster-whisper-base"


def test_a_cloud_speech_and_drafting_fallback_is_told_in_words_with_its_reasons() -> None:
    text = (
        banner("Transcribed", "aws-transcribe-medical", WHISPER, "quota exceeded")
        + " "
        + banner("Drafted", "gemini:gemini-2.5-flash", "rules", "the request timed out.")
    )
    assert what_ran(text, None) == [
        "Transcribed offline on this computer by Whisper base because Amazon Transcribe Medical (AWS) was "
        "unavailable: quota exceeded.",
        "Drafted offline on this computer by the rule-based drafter because Google Gemini (online) was "
        "unavailable: the request timed out.",
    ]


def test_a_reason_with_colons_and_parentheses_is_kept_whole() -> None:
    reason = "AccessDenied: not authorised (role copilot) for transcribe:StartMedicalScribeJob"
    (h,) = hand_overs(banner("Transcribed", "aws-transcribe", WHISPER, reason))
    assert (h.kind, h.offline, h.cloud, h.reason) == ("Transcribed", WHISPER, "aws-transcribe", reason)


def test_the_low_accuracy_backup_says_to_check_every_word() -> None:
    # the cloud engine failed and Whisper's model was missing too: the backup recogniser transcribed
    (line,) = what_ran(banner("Transcribed", "aws-transcribe", "pocketsphinx", "no credentials"), "pocketsphinx")
    assert "by the basic backup recogniser (pocketsphinx) because Amazon Transcribe (AWS) was unavailable" in line
    assert line.endswith("check every word against the audio.")
    # no cloud engine: Whisper's model could not be loaded, or the basic recogniser was chosen
    (missing,) = what_ran(None, "pocketsphinx", "whisper")
    assert missing.startswith("Transcribed on this computer by the basic backup recogniser (pocketsphinx), not Whisper")
    assert "as configured" in what_ran(None, "pocketsphinx", "sphinx")[0]


def test_nothing_is_said_when_the_configured_engines_ran_and_an_unknown_banner_stays_as_written() -> None:
    assert what_ran(None, None) == []
    assert what_ran("Speech engine changed by the administrator.", None) == [
        "Speech engine changed by the administrator."
    ]


def test_engine_names_in_words() -> None:
    names = [WHISPER, "whisper-Systran/faster-whisper-small", "whisper-models", "bedrock:claude", "textract", "new"]
    assert [engine_words(n) for n in names] == [
        "Whisper base",
        "Whisper small",
        "Whisper",  # a folder without a size in its name
        "Amazon Bedrock (AWS)",
        "Amazon Textract (AWS)",
        "new",
    ]


def test_the_live_line_names_the_stand_in_and_why() -> None:
    assert live_instead("stt", None) is None
    assert live_instead("stt", banner("Transcribed", "aws-transcribe", WHISPER, "quota exceeded")) == (
        "Speech now: on this computer (Whisper base), because Amazon Transcribe (AWS) was unavailable at the last "
        "try: quota exceeded"
    )
    line = live_instead("ocr", banner("Read", "textract", "rapidocr", "throttled"))
    assert line is not None and line.startswith("Reading documents now: on this computer (RapidOCR)")
