"""Builds the live adapters from Settings: the only module that knows which adapter is in use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from backend.config import Settings
from backend.domain import clock_format
from backend.domain.drafting.rules import check_rule_files
from backend.domain.limits import DEFAULT_LIMITS, Limits
from backend.domain.models import Segment, now_ms
from backend.domain.note_content import NoteContent
from backend.ports import (
    Answerer,
    BlobStore,
    Drafter,
    EventInbox,
    IdempotencyStore,
    JobQueue,
    LiveAudio,
    MedicationExtractor,
    OcrEngine,
    RecordStore,
    Transcriber,
    UploadStaging,
)

if TYPE_CHECKING:  # heavy modules: imported when first used, so start-up stays quick
    from backend.adapters.crypto import Encryption
    from backend.adapters.llm.client import JsonLlm
    from backend.adapters.llm.gemini import GeminiClient
    from backend.adapters.speech.whisper_stt import LoadedTranscriber
    from backend.domain.visit_summary import VisitSummary
    from backend.services.anomalies import EpisodeCache
    from backend.services.ask_index import AskIndexCache
    from backend.services.digitize import DigitizeDeps
    from backend.services.fhir_cache import FhirBundleCache
    from backend.services.metrics_jobs import MetricsJobDeps
    from backend.services.providers import ProviderRegistry
    from backend.services.scribe import ScribeDeps
    from backend.services.uploads import UploadDeps

T = TypeVar("T")


@dataclass
class App:
    """The services' view of the running system: ports plus settings."""

    settings: Settings
    stores: RecordStore
    blobs: BlobStore
    queue: JobQueue
    providers: dict[str, str]
    limits: Limits = DEFAULT_LIMITS  # build_app: ``settings.limits()``, built once
    engines: dict[str, object] = field(default_factory=dict)  # lazily built engines (speech, OCR, LLM), by name
    encryption: str = "off"  # encryption at rest of the local data folder: "off" or "on (key from …, id …)"
    # The decision build_app made, reused later: deciding again re-opens the database file, and closing that
    # descriptor drops this process's SQLite locks on it (POSIX locks are per process), so another process
    # could then delete the WAL this one is still writing to.
    resolved_encryption: Encryption | None = field(default=None, repr=False)
    registry: ProviderRegistry = field(default_factory=lambda: _registry())
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # factories nest (drafter -> llm)

    def engine(self, name: str, factory: Callable[[], T]) -> T:
        """Build ``name`` once per process (heavy models) and reuse it."""
        with self._lock:
            if name not in self.engines:
                self.engines[name] = factory()
            return cast(T, self.engines[name])  # one name, one factory: what it built is a T

    def speech(self) -> LoadedTranscriber:
        """The loaded speech engine (``.transcriber`` and ``.fallback_reason``), built on first use."""
        loaded = self.engine("stt", lambda: build_transcriber(self.settings, self.gemini))
        self.registry.register("stt", self.providers["stt"], loaded.transcriber)
        return loaded

    def speech_warning(self) -> str | None:
        """Why the speech engine loaded is not the preferred one (None: it is, or none is loaded yet)."""
        with self._lock:
            built = "stt" in self.engines
        return self.speech().fallback_reason if built else None

    def gemini(self) -> GeminiClient:
        """One Gemini client per process (only when the LLM or speech port is set to Gemini)."""
        from backend.adapters.llm.gemini import GeminiClient
        from backend.adapters.llm.retries import RetryPolicy

        s = self.settings
        return self.engine(
            "gemini",
            lambda: GeminiClient(
                s.gemini_api_key,
                s.gemini_model,
                base_url=s.gemini_base_url or None,
                timeout_s=s.gemini_timeout_s,
                retry=RetryPolicy(attempts=s.gemini_max_attempts),
            ),
        )

    def llm(self) -> JsonLlm:
        """The configured LLM client (Gemini, Bedrock or an OpenAI-compatible server), one per process.

        Raises:
            ProviderUnavailable: offline mode, or the chosen engine is not configured (no key, no URL).
        """
        from backend.domain.errors import ProviderUnavailable

        kind = self.providers["llm"]
        if kind == "gemini":
            return self.gemini()
        if kind not in LLM_ENGINES:
            raise ProviderUnavailable("The offline engines are configured (COPILOT_LLM=offline).")
        return self.engine(f"llm:{kind}", lambda: build_llm_client(self.settings, kind))

    def _llm_or_none(self) -> JsonLlm | None:
        """The LLM client, or None (offline, or not configured: the reason goes to the providers page)."""
        from backend.domain.errors import ProviderUnavailable

        if self.providers["llm"] not in LLM_ENGINES:
            return None
        try:
            return self.llm()
        except ProviderUnavailable as e:
            self.registry.note_error("llm", e.message)
            return None

    def drafter(self) -> Drafter:
        """segments -> NoteContent: the LLM with the offline drafter as fallback, or offline only."""

        def build() -> Drafter:
            from backend.adapters.fallback import FallbackDrafter, Unconfigured
            from backend.adapters.llm import LlmDrafter
            from backend.domain.errors import ProviderUnavailable

            kind, offline = self.providers["llm"], OfflineDrafter()
            if kind not in LLM_ENGINES:
                self.registry.register("llm", kind, offline)
                return offline
            try:
                client = self.llm()
            except ProviderUnavailable as e:
                drafter = FallbackDrafter(Unconfigured(e.message), offline, cloud_name=kind)
            else:
                drafter = FallbackDrafter(LlmDrafter(client), offline, cloud_name=client.name)
            self.registry.register("llm", kind, drafter)
            return drafter

        return self.engine("drafter", build)

    def answerer(self) -> Answerer | None:
        """The Ask service's grounded LLM, or None offline."""
        from backend.adapters.llm import LlmAnswerer

        client = self._llm_or_none()
        return None if client is None else self.engine("answerer", lambda: LlmAnswerer(client))

    def scribe_deps(self) -> ScribeDeps:
        """The scribe service's ports and limits (the speech engine is resolved on first use)."""
        from backend.adapters.audio.pyav_codec import PyAvCodec
        from backend.adapters.speech.whisper_language import recording_warnings
        from backend.services.scribe import ScribeDeps

        return ScribeDeps(
            stores=self.stores,
            blobs=self.blobs,
            queue=self.queue,
            codec=PyAvCodec(),
            transcriber=lambda: self.speech().transcriber,
            draft=self.drafter(),
            check_recording=recording_warnings,
            limits=self.limits,
        )

    def upload_deps(self) -> UploadDeps:
        """Direct uploads: the staging store (S3 or a local folder), the arrival inbox and the upload secret."""
        return self.engine("uploads", lambda: build_upload_deps(self))

    def ocr(self) -> OcrEngine:
        """The OCR engine, loaded once per process (Textract in front of rapidocr when configured)."""

        def build() -> OcrEngine:
            from backend.adapters.ocr.rapidocr_engine import shared_engine

            offline = shared_engine()
            if self.providers["ocr"] != "textract":
                return offline
            from backend.adapters.fallback import FallbackOcr
            from backend.adapters.ocr.aws_textract import TextractOcr

            s = self.settings
            features = [f.strip().upper() for f in s.textract_features.split(",") if f.strip()] or None
            return FallbackOcr(TextractOcr(features=features, bucket=s.s3_bucket or None, region=s.aws_region), offline)

        engine = self.engine("ocr", build)
        self.registry.register("ocr", self.providers["ocr"], engine)
        return engine

    def digitize_deps(self) -> DigitizeDeps:
        """The digitize service's ports and limits (the OCR engine is resolved on first use)."""
        from backend.formats import documents
        from backend.services.digitize import DigitizeDeps

        return DigitizeDeps(
            stores=self.stores,
            blobs=self.blobs,
            ocr=self.ocr,
            load_document=documents.load_document,
            read_pages=documents.ocr_document,
            mime_of=lambda data: documents.MIME_TYPES[documents.detect_kind(data)],
            limits=self.limits,
            extract=self._extractor(),
            region=self.settings.default_region,
            today=lambda: clock_format.day(now_ms(), self.settings.clinic_tz()),  # the clinic's calendar day
        )

    def _extractor(self) -> MedicationExtractor | None:
        from backend.adapters.llm import LlmMedicationExtractor

        client = self._llm_or_none()
        return None if client is None else self.engine("extractor", lambda: LlmMedicationExtractor(client)).extract

    def episodes(self) -> EpisodeCache:
        """Per-process anomaly episode cache (timeline, Ask, summaries)."""
        from backend.services.anomalies import EpisodeCache

        def build() -> EpisodeCache:
            from backend.adapters.llm import LlmExplainer

            client = self._llm_or_none()
            if client is None:
                return EpisodeCache(self.stores)
            return EpisodeCache(self.stores, rewrite=LlmExplainer(client).rewrite)

        return self.engine("episodes", build)

    def live_audio(self) -> LiveAudio:
        """Live microphone capture for the Scribe page's live mode (PyAV resampling, captions by the transcriber)."""
        from backend.adapters.audio.live import PyAvLiveAudio

        return PyAvLiveAudio()

    def summary_pdf(self) -> Callable[[VisitSummary], bytes]:
        """The after-visit summary's PDF renderer (fpdf2 with the Noto fonts)."""
        from backend.adapters.pdf.visit_summary_pdf import render_visit_summary_pdf

        return render_visit_summary_pdf

    def ask_cache(self) -> AskIndexCache:
        """The Ask page's per-process search index cache; its citation labels name the clinic's days."""
        from backend.services.ask_index import AskIndexCache

        return self.engine("ask_index", lambda: AskIndexCache(tz=self.settings.clinic_tz()))

    def fhir_cache(self) -> FhirBundleCache:
        """The FHIR export's per-process cache of validated bundles (a repeated export is not validated again)."""
        from backend.services.fhir_cache import FhirBundleCache

        return self.engine("fhir_bundles", FhirBundleCache)

    def metrics_job_deps(self) -> MetricsJobDeps:
        """Health-data import jobs: the stores, blobs, queue and limits."""
        from backend.services.metrics_jobs import MetricsJobDeps

        return MetricsJobDeps(stores=self.stores, blobs=self.blobs, queue=self.queue, limits=self.limits)

    def handle_job(self, job_id: str) -> None:
        """The worker's handler for every job kind: a document is read (OCR), a health-data file imported, a
        recording drafted."""
        from backend.services.document_jobs import is_document_job, process_document_job
        from backend.services.metrics_jobs import is_metrics_job, process_metrics_job
        from backend.services.scribe import process_job

        if is_document_job(self.stores, job_id):
            process_document_job(self.digitize_deps(), job_id)
            return
        if is_metrics_job(self.stores, job_id):
            process_metrics_job(self.metrics_job_deps(), job_id)
            return
        process_job(self.scribe_deps(), job_id)


LLM_ENGINES = frozenset({"gemini", "bedrock", "openai"})


class OfflineDrafter:
    """The rule-based drafter as the providers page sees it (no connection, never falls back)."""

    name = "rules"

    def __call__(self, segments: Sequence[Segment]) -> NoteContent:
        from backend.domain.drafting import draft_note

        return draft_note(segments)


def build_llm_client(settings: Settings, kind: str) -> JsonLlm:
    """A Bedrock or OpenAI-compatible client from settings (Gemini is built by ``App.gemini``)."""
    from backend.adapters.llm.retries import RetryPolicy

    retry = RetryPolicy(attempts=settings.llm_max_attempts)
    if kind == "bedrock":
        from backend.adapters.llm.bedrock import BedrockClient

        return BedrockClient(
            settings.bedrock_model_id,
            region=settings.bedrock_region or settings.aws_region,
            timeout_s=settings.llm_timeout_s,
            retry=retry,
        )
    from backend.adapters.llm.openai_compat import OpenAiCompatibleClient

    return OpenAiCompatibleClient(
        settings.openai_base_url,
        settings.openai_model,
        api_key=settings.openai_api_key,
        api_version=settings.openai_api_version,
        json_mode=settings.openai_json_mode,
        timeout_s=settings.llm_timeout_s,
        retry=retry,
    )


def data_encryption(settings: Settings) -> Encryption:
    """The local data folder's encryption (``backend.adapters.crypto.Encryption``), decided before anything opens.

    Raises:
        DataKeyError: the key is missing, malformed or wrong, or a plain folder must be encrypted first.
    """
    from backend.adapters.crypto import Encryption, resolve_encryption

    if settings.resolved("store") != "sqlite" and settings.resolved("blobs") != "local":
        return Encryption(None)  # nothing local: DynamoDB and S3 are encrypted by AWS
    secret = settings.data_key.get_secret_value() if settings.data_key else None
    return resolve_encryption(settings.encryption, secret, settings.data_dir, use_keyring=settings.keyring)


def build_stores(settings: Settings, encryption: Encryption | None = None) -> RecordStore:
    kind = settings.resolved("store")
    if kind == "dynamodb":
        from backend.adapters.records.dynamodb import open_dynamodb_store

        return open_dynamodb_store(prefix=settings.table_prefix, region=settings.aws_region)
    from backend.adapters.records.sqlite import open_sqlite_store

    return open_sqlite_store(settings.db_path, (encryption or data_encryption(settings)).key)


def build_blobs(settings: Settings, encryption: Encryption | None = None) -> BlobStore:
    if settings.resolved("blobs") == "s3":
        from backend.adapters.blobs.s3 import S3BlobStore

        return S3BlobStore(settings.s3_bucket, kms_key_id=settings.s3_kms_key_id or None)
    from backend.adapters.blobs.local import LocalBlobStore
    from backend.adapters.crypto import BlobCipher

    key = (encryption or data_encryption(settings)).key
    return LocalBlobStore(settings.blob_root, BlobCipher(key) if key is not None else None)


def build_queue(settings: Settings, encryption: Encryption | None = None) -> JobQueue:
    if settings.resolved("queue") == "sqs":
        from backend.adapters.queues.sqs import SqsJobQueue

        return SqsJobQueue(settings.sqs_queue_url, region=settings.aws_region)
    from backend.adapters.queues.sqlite import SqliteJobQueue
    from backend.adapters.records.sqlite import Database

    return SqliteJobQueue(Database(settings.db_path, (encryption or data_encryption(settings)).key))


def build_idempotency_store(app: App) -> IdempotencyStore:
    """Where the REST API keeps retried requests' first answers: the record store's backend (SQLite or DynamoDB)."""
    s = app.settings
    if s.resolved("store") == "dynamodb":
        from backend.adapters.records.dynamodb.base import make_client
        from backend.adapters.records.dynamodb.idempotency import DynamoIdempotencyStore

        return DynamoIdempotencyStore(make_client(region=s.aws_region), s.table_prefix)
    from backend.adapters.records.sqlite import Database
    from backend.adapters.records.sqlite.idempotency import SqliteIdempotencyStore

    return SqliteIdempotencyStore(Database(s.db_path, (app.resolved_encryption or data_encryption(s)).key))


def build_upload_deps(app: App) -> UploadDeps:
    """Direct uploads' ports for ``app``: S3 + the SQS events queue, or a local folder + the SQLite inbox."""
    from backend.services.uploads import UploadDeps

    s = app.settings
    minutes = max(1, min(s.upload_url_minutes, 7 * 24 * 60))
    staging: UploadStaging
    inbox: EventInbox
    if s.resolved("blobs") == "s3":
        from backend.adapters.blobs.s3_staging import S3UploadStaging
        from backend.adapters.queues.sqs_inbox import SqsEventInbox
        from backend.domain.errors import ValidationFailed

        if s.upload_secret is None:
            raise ValidationFailed("Direct uploads to S3 need COPILOT_UPLOAD_SECRET (the same for API and workers).")
        secret = s.upload_secret.get_secret_value().encode()
        staging = S3UploadStaging(s.s3_bucket, kms_key_id=s.s3_kms_key_id or None, region=s.aws_region)
        inbox = SqsEventInbox(s.upload_queue_url, region=s.aws_region)
        bucket = s.s3_bucket
    else:
        from backend.adapters.blobs.local_staging import LocalUploadStaging
        from backend.adapters.crypto import BlobCipher
        from backend.adapters.queues.sqlite_inbox import SqliteEventInbox
        from backend.adapters.records.sqlite import Database

        secret = s.upload_secret.get_secret_value().encode() if s.upload_secret else _local_upload_secret(s)
        key = (app.resolved_encryption or data_encryption(s)).key
        staging = LocalUploadStaging(s.data_dir / "uploads", secret, BlobCipher(key) if key is not None else None)
        inbox = SqliteEventInbox(Database(s.db_path, key))
        bucket = "local"
    return UploadDeps(app.scribe_deps(), staging, inbox, secret, url_seconds=minutes * 60, bucket=bucket)


def _local_upload_secret(settings: Settings) -> bytes:
    """The data folder's own upload secret (made once, owner-only), for local direct uploads."""
    import os
    import secrets

    path = settings.data_dir / "upload-secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    return path.read_bytes()


def _registry() -> ProviderRegistry:
    from backend.services.providers import ProviderRegistry

    return ProviderRegistry()


def build_transcriber(settings: Settings, gemini: Callable[[], GeminiClient] | None = None) -> LoadedTranscriber:
    """Whisper (or pocketsphinx); a cloud engine in front of it when configured, the offline one as fallback."""
    from backend.adapters.speech.whisper_stt import LoadedTranscriber, load_transcriber

    offline = load_transcriber(settings.whisper_model or None, settings.data_dir, parallel=settings.whisper_parallel)
    kind = settings.resolved("stt")
    if kind not in ("transcribe", "gemini"):
        return offline
    from backend.adapters.fallback import FallbackTranscriber

    cloud: Transcriber
    if kind == "transcribe":
        from backend.adapters.speech.aws_transcribe import AwsTranscribeTranscriber

        cloud = AwsTranscribeTranscriber(
            settings.s3_bucket,
            language=settings.transcribe_language,
            region=settings.aws_region,
            kms_key_id=settings.s3_kms_key_id or None,
            max_speakers=settings.transcribe_max_speakers,
        )
    else:
        from backend.adapters.speech.gemini_transcription import GeminiTranscriber

        assert gemini is not None
        cloud = GeminiTranscriber(gemini())
    return LoadedTranscriber(FallbackTranscriber(cloud, offline.transcriber), offline.fallback_reason)


def build_app(settings: Settings | None = None) -> App:
    """Open stores, blobs and queue for ``settings`` (read from the environment when None)."""
    settings = settings or Settings()
    check_rule_files()  # a bad row in the drafter's rule files stops start-up with its file and line, not a draft
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # PHI: a new data folder is owner-only
    providers = {port: settings.resolved(port) for port in ("store", "blobs", "queue", "stt", "ocr", "llm")}
    encryption = data_encryption(settings)
    return App(
        settings=settings,
        stores=build_stores(settings, encryption),
        blobs=build_blobs(settings, encryption),
        queue=build_queue(settings, encryption),
        providers=providers,
        limits=settings.limits(),
        encryption=encryption.label,
        resolved_encryption=encryption,
    )


def start_app(settings: Settings | None = None) -> App:
    """Build the app for a long-running server process and start its background work (the local worker).

    The Streamlit server calls this once per process; the worker package is imported here, at the edge, so pages
    and services never reach it.
    """
    app = build_app(settings)
    start_background_work(app)
    return app


def start_background_work(app: App) -> None:
    """Start ``app``'s background work once (the in-process job worker when the queue is local).

    Entry points call this (the Streamlit server through :func:`start_app`, the REST API on start-up); the worker
    package is imported here, at the edge, so pages, services and API routes never reach it.
    """
    from backend.worker.background import start_background
    from backend.worker.uploads import start_local_upload_consumer

    start_background(app)
    start_local_upload_consumer(app)
