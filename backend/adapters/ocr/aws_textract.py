"""OCR with AWS Textract, implementing ``backend.ports.OcrEngine``.

- Images: ``DetectDocumentText`` (lines and words), or ``AnalyzeDocument`` with ``FeatureTypes`` such as
  TABLES / FORMS when configured (then tables and key-value pairs are read too: :meth:`TextractOcr.analyze`).
- Multi-page PDFs must be in S3: ``StartDocumentTextDetection`` (or ``StartDocumentAnalysis``) and then
  ``Get...`` polled until done and paged through with ``NextToken``.

Textract gives every block's ``Geometry`` as ratios of the page (``BoundingBox`` Left/Top/Width/Height and a
``Polygon`` of points in [0, 1]). ``OcrLine.box`` is in pixels of the page, so the geometry is scaled by the
page size when it is known (images: read with Pillow). For PDFs read from S3 the page size is not known:
boxes stay normalised and :attr:`TextractDocument.coordinates` says ``"normalised"``.

Lines come in reading order: the order of the PAGE block's CHILD relationships (Textract's reading order),
falling back to top-to-bottom, left-to-right when a reply has no PAGE block.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image, UnidentifiedImageError

from backend.adapters.aws_errors import delete_quietly, error_code, retry_config
from backend.domain.errors import ProviderUnavailable, UnsupportedInput
from backend.ports import OcrLine

log = logging.getLogger(__name__)
Point = tuple[float, float]
Coordinates = Literal["pixels", "normalised"]
SYNC_MAX_BYTES = 10 * 1024 * 1024  # Textract's limit for a document passed as bytes
FEATURES = frozenset({"TABLES", "FORMS", "SIGNATURES", "LAYOUT"})
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException"})
BAD_INPUT = frozenset({"UnsupportedDocumentException", "BadDocumentException", "DocumentTooLargeException"})


@dataclass(frozen=True)
class TextractDocument:
    """What Textract read: lines in reading order, plus tables and form fields from AnalyzeDocument."""

    lines: list[OcrLine]
    coordinates: Coordinates
    pages: int = 1
    tables: list[list[list[str]]] = field(default_factory=list)  # table -> rows -> cell texts
    key_values: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _unavailable(error: Exception, what: str) -> Exception:
    if isinstance(error, ClientError):
        code = error_code(error)
        if code in BAD_INPUT:
            return UnsupportedInput(f"Textract cannot read this document ({code}). Use a JPEG, PNG, TIFF or PDF file.")
        if code in THROTTLED:
            return ProviderUnavailable(f"AWS Textract is throttling or over its quota ({what}: {code}).")
        if code in ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"):
            return ProviderUnavailable(
                f"AWS refused access to Textract ({code}): check the credentials and IAM permissions."
            )
        message = error.response.get("Error", {}).get("Message", "")
        return ProviderUnavailable(f"AWS Textract failed ({what}: {code} {message}).".replace(" )", ")"))
    return ProviderUnavailable(f"AWS Textract could not be reached ({what}: {type(error).__name__}).")


def _scale(geometry: dict[str, Any], size: tuple[int, int] | None) -> tuple[Point, ...]:
    """The block's polygon (or its bounding box corners) in pixels when ``size`` is known, else ratios."""
    w, h = size or (1, 1)
    polygon = geometry.get("Polygon") or []
    if polygon:
        return tuple((float(p["X"]) * w, float(p["Y"]) * h) for p in polygon)
    box = geometry.get("BoundingBox") or {}
    left, top = float(box.get("Left", 0)), float(box.get("Top", 0))
    right, bottom = left + float(box.get("Width", 0)), top + float(box.get("Height", 0))
    return ((left * w, top * h), (right * w, top * h), (right * w, bottom * h), (left * w, bottom * h))


def _children(block: dict[str, Any], kind: str = "CHILD") -> list[str]:
    return [i for r in block.get("Relationships", []) if r.get("Type") == kind for i in r.get("Ids", [])]


def _position(block: dict[str, Any]) -> tuple[float, float]:
    box = block.get("Geometry", {}).get("BoundingBox", {})
    return float(box.get("Top", 0)), float(box.get("Left", 0))


def blocks_to_lines(
    blocks: Sequence[dict[str, Any]], sizes: dict[int, tuple[int, int]] | None = None, page_offset: int = 0
) -> list[OcrLine]:
    """LINE blocks -> ``OcrLine`` in reading order, page by page.

    Args:
        blocks: Textract blocks of one or more pages (``Page`` is 1-based; absent for single images).
        sizes: page number (1-based) -> (width, height) in pixels; pages without a size keep ratios.
        page_offset: added to the 0-based page index (``read_image`` of page N of a document).
    """
    by_id = {b["Id"]: b for b in blocks if "Id" in b}
    pages = [b for b in blocks if b.get("BlockType") == "PAGE"]
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()
    for page in sorted(pages, key=lambda b: int(b.get("Page", 1))):
        for child in _children(page):
            b = by_id.get(child)
            if b is not None and b.get("BlockType") == "LINE" and child not in seen:
                ordered.append(b)
                seen.add(child)
    rest = [b for b in blocks if b.get("BlockType") == "LINE" and b.get("Id") not in seen]
    ordered += sorted(rest, key=lambda b: (int(b.get("Page", 1)), *_position(b)))
    lines = []
    for b in ordered:
        page_no = int(b.get("Page", 1))
        size = (sizes or {}).get(page_no)
        lines.append(
            OcrLine(
                text=str(b.get("Text", "")),
                box=_scale(b.get("Geometry", {}), size),
                score=float(b.get("Confidence", 0.0)) / 100.0,
                page=page_no - 1 + page_offset,
            )
        )
    return lines


def _text_of(block: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    words = []
    for i in _children(block):
        child = by_id.get(i, {})
        if child.get("BlockType") == "WORD":
            words.append(str(child.get("Text", "")))
        elif child.get("BlockType") == "SELECTION_ELEMENT" and child.get("SelectionStatus") == "SELECTED":
            words.append("[x]")
    return " ".join(words)


def blocks_to_tables(blocks: Sequence[dict[str, Any]]) -> list[list[list[str]]]:
    """TABLE blocks -> rows of cell texts (CELL ``RowIndex``/``ColumnIndex`` are 1-based)."""
    by_id = {b["Id"]: b for b in blocks if "Id" in b}
    tables = []
    for table in (b for b in blocks if b.get("BlockType") == "TABLE"):
        cells = [by_id[i] for i in _children(table) if by_id.get(i, {}).get("BlockType") == "CELL"]
        if not cells:
            continue
        rows = max(int(c.get("RowIndex", 1)) for c in cells)
        cols = max(int(c.get("ColumnIndex", 1)) for c in cells)
        grid = [["" for _ in range(cols)] for _ in range(rows)]
        for c in cells:
            grid[int(c.get("RowIndex", 1)) - 1][int(c.get("ColumnIndex", 1)) - 1] = _text_of(c, by_id)
        tables.append(grid)
    return tables


def blocks_to_key_values(blocks: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """KEY_VALUE_SET blocks (EntityTypes KEY, with a VALUE relationship) -> (key text, value text)."""
    by_id = {b["Id"]: b for b in blocks if "Id" in b}
    pairs = []
    for key in blocks:
        if key.get("BlockType") != "KEY_VALUE_SET" or "KEY" not in key.get("EntityTypes", []):
            continue
        values = [by_id[i] for i in _children(key, "VALUE") if i in by_id]
        pairs.append((_text_of(key, by_id), " ".join(_text_of(v, by_id) for v in values).strip()))
    return pairs


class TextractOcr:
    """``OcrEngine`` over AWS Textract.

    Args:
        client: a boto3 ``textract`` client (built with adaptive retries when None).
        features: AnalyzeDocument ``FeatureTypes`` (e.g. ``["TABLES", "FORMS"]``); None = DetectDocumentText.
        s3_client: a boto3 ``s3`` client, only for :meth:`read_pdf` (temporary upload).
        bucket: bucket for :meth:`read_pdf`'s temporary upload.
        region: AWS region for clients built here.
        poll_first, poll_max, timeout_s: backoff of the asynchronous jobs.
        sleep: injectable for tests.
    """

    name = "textract"

    def __init__(
        self,
        client: Any = None,
        features: Iterable[str] | None = None,
        *,
        s3_client: Any = None,
        bucket: str | None = None,
        region: str | None = None,
        poll_first: float = 1.0,
        poll_max: float = 10.0,
        timeout_s: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.features = sorted({f.upper() for f in features or ()})
        unknown = set(self.features) - FEATURES
        if unknown:
            raise ValueError(f"unknown Textract feature types: {', '.join(sorted(unknown))}")
        if client is None:
            import boto3

            client = boto3.client("textract", region_name=region, config=retry_config())
        self.client = client
        self.s3 = s3_client
        self.bucket = bucket
        self.poll_first, self.poll_max, self.timeout_s = poll_first, poll_max, timeout_s
        self._sleep = sleep
        self.last_coordinates: Coordinates = "pixels"

    def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
        """Lines of one page image (JPEG/PNG/TIFF), boxes in pixels of that image."""
        return self.analyze(image_bytes, page).lines

    def analyze(self, image_bytes: bytes, page: int = 0) -> TextractDocument:
        """One page image -> lines (and tables / form fields when ``features`` include them)."""
        size: tuple[int, int] | None
        try:
            with Image.open(io.BytesIO(image_bytes)) as image:
                size = image.size
                if len(image_bytes) > SYNC_MAX_BYTES:
                    image_bytes = _shrink(image)
        except (UnidentifiedImageError, OSError):
            size = None  # a format Pillow does not know (Textract may): keep ratios and say so
        document = {"Bytes": image_bytes}
        try:
            if self.features:
                reply = self.client.analyze_document(Document=document, FeatureTypes=self.features)
            else:
                reply = self.client.detect_document_text(Document=document)
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "reading the image") from e
        blocks = reply.get("Blocks", [])
        self.last_coordinates = "pixels" if size else "normalised"
        return TextractDocument(
            lines=blocks_to_lines(blocks, {1: size} if size else None, page_offset=page),
            coordinates=self.last_coordinates,
            tables=blocks_to_tables(blocks),
            key_values=blocks_to_key_values(blocks),
            warnings=[] if size else ["Page size unknown: boxes are ratios of the page (0-1), not pixels."],
        )

    def read_s3_document(self, bucket: str, key: str) -> TextractDocument:
        """A multi-page PDF (or TIFF) in S3, read by an asynchronous job. Boxes stay normalised."""
        location = {"S3Object": {"Bucket": bucket, "Name": key}}
        try:
            if self.features:
                job = self.client.start_document_analysis(DocumentLocation=location, FeatureTypes=self.features)[
                    "JobId"
                ]
            else:
                job = self.client.start_document_text_detection(DocumentLocation=location)["JobId"]
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "starting the document job") from e
        blocks, pages, warnings = self._collect(job)
        self.last_coordinates = "normalised"
        return TextractDocument(
            lines=blocks_to_lines(blocks),
            coordinates="normalised",
            pages=pages,
            tables=blocks_to_tables(blocks),
            key_values=blocks_to_key_values(blocks),
            warnings=["Page sizes unknown: boxes are ratios of the page (0-1), not pixels.", *warnings],
        )

    def _get(self, job: str, token: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"JobId": job, "MaxResults": 1000}
        if token:
            kwargs["NextToken"] = token
        try:
            if self.features:
                return dict(self.client.get_document_analysis(**kwargs))
            return dict(self.client.get_document_text_detection(**kwargs))
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "reading the document job") from e

    def _collect(self, job: str) -> tuple[list[dict[str, Any]], int, list[str]]:
        deadline = time.monotonic() + self.timeout_s
        delay = self.poll_first
        reply = self._get(job, None)
        while reply.get("JobStatus") == "IN_PROGRESS":
            if time.monotonic() + delay > deadline:
                raise ProviderUnavailable(f"AWS Textract did not finish within {self.timeout_s / 60:.0f} minutes.")
            self._sleep(delay)
            delay = min(delay * 2, self.poll_max)
            reply = self._get(job, None)
        status = reply.get("JobStatus")
        if status == "FAILED":
            raise ProviderUnavailable(
                f"AWS Textract could not read the document: {reply.get('StatusMessage', 'no reason given')}"
            )
        warnings = [f"Textract: {w.get('ErrorCode')} on pages {w.get('Pages')}" for w in reply.get("Warnings", [])]
        if status == "PARTIAL_SUCCESS":
            warnings.append("Textract read only part of the document.")
        pages = int(reply.get("DocumentMetadata", {}).get("Pages", 0))
        blocks = list(reply.get("Blocks", []))
        while reply.get("NextToken"):
            reply = self._get(job, reply["NextToken"])
            blocks.extend(reply.get("Blocks", []))
        return blocks, pages, warnings

    def read_pdf(self, pdf_bytes: bytes, prefix: str = "tmp/textract/") -> TextractDocument:
        """Upload a PDF to the configured bucket, read it with an asynchronous job, delete the upload."""
        if self.s3 is None or not self.bucket:
            raise ProviderUnavailable("Textract reads multi-page PDFs from S3: set COPILOT_S3_BUCKET.")
        import uuid

        key = f"{prefix}{uuid.uuid4().hex}.pdf"
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=pdf_bytes,
                ContentType="application/pdf",
                ServerSideEncryption="AES256",
            )
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "uploading the PDF to S3") from e
        try:
            return self.read_s3_document(self.bucket, key)
        finally:
            delete_quietly(self.s3, self.bucket, key)

    def check(self) -> str:
        """A cheap authenticated call (no document is sent) for the providers page."""
        try:
            self.client.list_adapters(MaxResults=1)
        except (ClientError, BotoCoreError) as e:
            raise _unavailable(e, "connection test") from e
        return "AWS Textract reachable."


def _shrink(image: Image.Image) -> bytes:
    """Re-encode a page as JPEG under Textract's 10 MB limit for bytes, halving its size until it fits."""
    page = image.convert("RGB")
    while True:
        buf = io.BytesIO()
        page.save(buf, format="JPEG", quality=85)
        if buf.tell() <= SYNC_MAX_BYTES or min(page.size) < 200:
            return buf.getvalue()
        page = page.resize((page.width // 2, page.height // 2))
