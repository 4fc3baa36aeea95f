"""One Settings object: env vars (prefix ``COPILOT_``) and optional ``.streamlit/secrets.toml``.

Provider choice per port: ``auto`` picks the cloud engine when its credentials
or endpoint are configured, else the offline one; each can be forced.
"""

from __future__ import annotations

import os
import tomllib
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from backend.domain.clock_format import clinic_zone
from backend.domain.errors import ValidationFailed
from backend.domain.limits import DEFAULT_LIMITS, MB, Limits

SECRETS_FILE = Path(".streamlit/secrets.toml")


class _SecretsTomlSource(PydanticBaseSettingsSource):
    """Reads top-level ``copilot_*`` keys (or a ``[copilot]`` table) from ``.streamlit/secrets.toml``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("COPILOT_SECRETS_FILE", str(SECRETS_FILE)))
        if not path.is_file():
            return {}
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        table = dict(data.get("copilot", {}))
        for key, value in data.items():
            if key.lower().startswith("copilot_") and not isinstance(value, dict):
                table[key.lower().removeprefix("copilot_")] = value
        return {k.lower(): v for k, v in table.items() if k.lower() in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Everything configurable. Env vars win over secrets.toml, which wins over defaults."""

    model_config = SettingsConfigDict(env_prefix="COPILOT_", extra="ignore")

    data_dir: Path = Path("data")
    demo: bool = False
    default_region: str = "IN"
    session_idle_minutes: int = 30
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    nurse_can_sign: bool = False
    # Encryption at rest of the local data folder (backend/adapters/crypto/policy.py): auto = on when a data key
    # is set here or stored in the OS keyring (or the folder is encrypted already), else off.
    encryption: Literal["auto", "on", "off"] = "auto"
    data_key: SecretStr | None = None  # `python -m backend keys create` makes one (never logged)
    keyring: bool = True  # look for the data key in the OS keyring when data_key is not set

    store: Literal["auto", "sqlite", "dynamodb"] = "auto"
    blobs: Literal["auto", "local", "s3"] = "auto"
    queue: Literal["auto", "sqlite", "sqs"] = "auto"
    stt: Literal["auto", "whisper", "sphinx", "transcribe", "gemini"] = "auto"
    ocr: Literal["auto", "rapidocr", "textract"] = "auto"
    llm: Literal["auto", "offline", "rules", "gemini", "bedrock", "openai"] = "auto"  # "rules" = "offline"

    table_prefix: str = ""
    s3_bucket: str = ""
    s3_kms_key_id: str = ""
    sqs_queue_url: str = ""
    sqs_dlq_url: str = ""
    upload_queue_url: str = ""  # SQS queue of the bucket's ObjectCreated events under uploads/ (direct uploads)
    upload_secret: SecretStr | None = None  # signs direct-upload keys and forms; empty: a file in data_dir
    upload_url_minutes: int = 15  # how long a direct-upload form stays valid
    aws_region: str = Field(
        default_factory=lambda: os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "ap-south-1"))
    )

    gemini_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_timeout_s: float = 60.0
    gemini_max_attempts: int = 4
    gemini_base_url: str = ""  # only for tests and proxies
    bedrock_model_id: str = ""  # empty: Claude Haiku 4.5 (global inference profile) when COPILOT_LLM=bedrock
    bedrock_region: str = ""  # empty: aws_region
    openai_base_url: str = ""  # e.g. http://localhost:11434/v1 (Ollama) or https://NAME.openai.azure.com (Azure)
    openai_api_key: SecretStr | None = None
    openai_model: str = ""  # model name; for Azure OpenAI the deployment name
    openai_api_version: str = ""  # set for Azure OpenAI's deployment URLs, e.g. 2024-10-21
    openai_json_mode: Literal["auto", "schema", "text"] = "auto"
    llm_timeout_s: float = 60.0  # Bedrock and OpenAI-compatible requests
    llm_max_attempts: int = 4
    transcribe_language: str = "en-US"
    transcribe_max_speakers: int = 3
    textract_features: str = ""  # e.g. "TABLES,FORMS" to use AnalyzeDocument

    whisper_model: str = (
        ""  # folder (or hub name on machines with internet); default: <data_dir>/models/faster-whisper-base
    )
    whisper_parallel: int = 2  # clips of a recording Whisper decodes at once, one core's share each
    # Limits (backend/domain/limits.py holds the defaults; `limits()` gives them to the app as one object)
    max_audio_minutes: int = int(DEFAULT_LIMITS.max_audio_seconds // 60)
    max_upload_mb: int = DEFAULT_LIMITS.max_audio_bytes // MB  # recordings, and health data sent to the API
    max_pdf_pages: int = DEFAULT_LIMITS.max_document_pages
    max_document_mb: int = DEFAULT_LIMITS.max_document_bytes // MB  # prescriptions and medication lists
    audio_retention_days: int = 0  # 0: keep recordings; N: `purge-audio` deletes those of notes signed N+ days ago
    worker_threads: int = 1
    job_max_attempts: int = DEFAULT_LIMITS.job_max_attempts
    worker_heartbeat_seconds: float = DEFAULT_LIMITS.worker_heartbeat_seconds
    worker_visibility_seconds: int = DEFAULT_LIMITS.worker_visibility_seconds
    worker_wait_seconds: float = DEFAULT_LIMITS.worker_wait_seconds
    api_token_days: int = 90  # lifetime of a new personal API token (`tokens create --days` overrides)
    api_rate_per_minute: int = 120  # REST API requests per token (or OIDC identity) per minute, bursts of a fifth
    api_oidc_issuer: str = ""  # REST API: accept bearer JWTs of this OIDC issuer (empty: personal tokens only)
    api_oidc_audience: str = ""  # ...whose audience is this (required with the issuer)
    api_oidc_jwks_url: str = ""  # ...signed by these keys (empty: from the issuer's discovery document)
    ultrahuman_token: SecretStr | None = None  # the Ultrahuman partner token (never stored in the database)
    ultrahuman_url: str = "https://partner.ultrahuman.com"  # the partner API's base URL
    sync_at: str = "02:30"  # local time of the daily wearable sync in the local worker ("off": never)
    sync_timezone: str = ""  # the zone of sync_at and of "yesterday" (empty: this machine's), e.g. Asia/Kolkata
    timezone: str = ""  # the clinic's zone of every time shown to a person (empty: this machine's, else UTC)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            clinic_zone(value)
        except ValidationFailed as e:  # pydantic reports a ValueError as a settings error naming the field
            raise ValueError(e.message) from e
        return value.strip()

    def clinic_tz(self) -> tzinfo:
        """The clinic's time zone (``COPILOT_TIMEZONE``) for pages, printouts and the command line's output."""
        return clinic_zone(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SecretsTomlSource(settings_cls))

    @property
    def db_path(self) -> Path:
        return self.data_dir / "copilot.sqlite3"

    def limits(self) -> Limits:
        """The process's limits from these settings (sizes in bytes, lengths in seconds).

        Raises:
            ValueError: the worker heartbeat is not shorter than the queue visibility timeout.
        """
        return Limits(
            max_audio_seconds=self.max_audio_minutes * 60,
            max_audio_bytes=self.max_upload_mb * MB,
            max_import_bytes=self.max_upload_mb * MB,
            max_document_pages=self.max_pdf_pages,
            max_document_bytes=self.max_document_mb * MB,
            job_max_attempts=self.job_max_attempts,
            worker_heartbeat_seconds=self.worker_heartbeat_seconds,
            worker_visibility_seconds=self.worker_visibility_seconds,
            worker_wait_seconds=self.worker_wait_seconds,
        )

    @property
    def blob_root(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def has_aws(self) -> bool:
        """True when an AWS credential chain or endpoint is visible in the environment."""
        keys = (
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        )
        return any(os.environ.get(k) for k in keys)

    def llm_auto_choice(self) -> str:
        """``auto``'s LLM, in the documented order: Gemini (key set), Bedrock (model id set and AWS credentials
        visible), an OpenAI-compatible server (base URL set), else the offline rule-based engines."""
        if self.gemini_api_key is not None:
            return "gemini"
        if self.bedrock_model_id and self.has_aws:
            return "bedrock"
        if self.openai_base_url:
            return "openai"
        return "offline"

    def resolved(self, port: str) -> str:
        """The concrete provider name for ``port`` after applying ``auto``."""
        choice = str(getattr(self, port))
        if port == "llm" and choice == "rules":
            return "offline"
        if choice != "auto":
            return choice
        aws = self.has_aws
        return {
            "store": "dynamodb" if aws and self.table_prefix else "sqlite",
            "blobs": "s3" if aws and self.s3_bucket else "local",
            "queue": "sqs" if aws and self.sqs_queue_url else "sqlite",
            "stt": "whisper",
            "ocr": "rapidocr",
            "llm": self.llm_auto_choice(),
        }[port]
