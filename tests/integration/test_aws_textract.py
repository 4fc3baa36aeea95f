"""AWS Textract adapter: botocore Stubber replies with documented Blocks (PAGE/LINE/WORD, TABLE/CELL,
KEY_VALUE_SET) and Geometry (BoundingBox + Polygon as page ratios); moto S3 for the PDF path."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from PIL import Image

from backend.adapters.fallback import FallbackOcr
from backend.adapters.ocr.aws_textract import TextractOcr
from backend.domain.errors import ProviderUnavailable, UnsupportedInput
from backend.ports import OcrLine

REGION = "us-east-1"
W, H = 1000, 500


def _png(size: tuple[int, int] = (W, H)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format="PNG")
    return buf.getvalue()


def _geometry(left: float, top: float, width: float, height: float) -> dict[str, Any]:
    return {
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "Polygon": [
            {"X": left, "Y": top}, {"X": left + width, "Y": top},
            {"X": left + width, "Y": top + height}, {"X": left, "Y": top + height},
        ],
    }  # fmt: skip


def _block(
    kind: str,
    ident: str,
    text: str | None = None,
    geo: tuple[float, ...] = (0.1, 0.1, 0.2, 0.05),
    children: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    block: dict[str, Any] = {"BlockType": kind, "Id": ident, "Confidence": 98.0, "Geometry": _geometry(*geo)}
    if text is not None:
        block["Text"] = text
    if children:
        block["Relationships"] = [{"Type": "CHILD", "Ids": children}]
    block.update(extra)
    return block


def _page_blocks(page: int | None = None) -> list[dict[str, Any]]:
    extra: dict[str, Any] = {"Page": page} if page else {}
    p = f"p{page or 1}-"
    return [
        _block("PAGE", p + "page", geo=(0, 0, 1, 1), children=[p + "l1", p + "l2"], **extra),
        # listed out of order on purpose: the PAGE's CHILD order is Textract's reading order
        _block("LINE", p + "l2", "Metformin 500 mg BD", (0.1, 0.30, 0.5, 0.05), [p + "w3", p + "w4"], **extra),
        _block("LINE", p + "l1", "Rx", (0.1, 0.10, 0.1, 0.05), [p + "w1"], **extra),
        _block("WORD", p + "w1", "Rx", (0.1, 0.10, 0.1, 0.05), TextType="PRINTED", **extra),
        _block("WORD", p + "w3", "Metformin", (0.1, 0.30, 0.3, 0.05), TextType="HANDWRITING", **extra),
        _block("WORD", p + "w4", "500", (0.45, 0.30, 0.1, 0.05), TextType="HANDWRITING", **extra),
    ]


@pytest.fixture
def textract() -> Iterator[tuple[Any, Stubber]]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("textract", region_name=REGION)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_detect_document_text_lines_in_reading_order_with_pixel_boxes(textract: tuple[Any, Stubber]) -> None:
    client, stub = textract
    image = _png()
    reply = {"DocumentMetadata": {"Pages": 1}, "Blocks": _page_blocks(), "DetectDocumentTextModelVersion": "1.0"}
    stub.add_response("detect_document_text", reply, {"Document": {"Bytes": image}})
    lines = TextractOcr(client).read_image(image, page=2)
    assert [line.text for line in lines] == ["Rx", "Metformin 500 mg BD"]
    assert lines[1].box == ((100.0, 150.0), (600.0, 150.0), (600.0, 175.0), (100.0, 175.0))
    assert lines[1].score == pytest.approx(0.98) and lines[1].page == 2


def test_analyze_document_reads_tables_and_forms(textract: tuple[Any, Stubber]) -> None:
    client, stub = textract
    image = _png()
    blocks = [
        _block("PAGE", "page", geo=(0, 0, 1, 1), children=["l1", "t1", "kv-k"]),
        _block("LINE", "l1", "Name: Asha", (0.1, 0.05, 0.3, 0.04), ["w-name", "w-asha"]),
        _block("WORD", "w-name", "Name:", (0.1, 0.05, 0.1, 0.04)),
        _block("WORD", "w-asha", "Asha", (0.25, 0.05, 0.1, 0.04)),
        _block("WORD", "w-drug", "Dolo", (0.1, 0.2, 0.1, 0.04)),
        _block("WORD", "w-dose", "650", (0.4, 0.2, 0.1, 0.04)),
        _block("TABLE", "t1", geo=(0.1, 0.2, 0.6, 0.1), children=["c11", "c12"], EntityTypes=["STRUCTURED_TABLE"]),
        _block("CELL", "c11", geo=(0.1, 0.2, 0.3, 0.1), children=["w-drug"],
               RowIndex=1, ColumnIndex=1, RowSpan=1, ColumnSpan=1),
        _block("CELL", "c12", geo=(0.4, 0.2, 0.3, 0.1), children=["w-dose"],
               RowIndex=1, ColumnIndex=2, RowSpan=1, ColumnSpan=1),
        _block("KEY_VALUE_SET", "kv-k", geo=(0.1, 0.05, 0.1, 0.04), EntityTypes=["KEY"],
               Relationships=[{"Type": "VALUE", "Ids": ["kv-v"]}, {"Type": "CHILD", "Ids": ["w-name"]}]),
        _block("KEY_VALUE_SET", "kv-v", geo=(0.25, 0.05, 0.1, 0.04), children=["w-asha"], EntityTypes=["VALUE"]),
    ]  # fmt: skip
    reply = {"DocumentMetadata": {"Pages": 1}, "Blocks": blocks, "AnalyzeDocumentModelVersion": "1.0"}
    stub.add_response("analyze_document", reply, {"Document": {"Bytes": image}, "FeatureTypes": ["FORMS", "TABLES"]})
    result = TextractOcr(client, features=["tables", "forms"]).analyze(image)
    assert [line.text for line in result.lines] == ["Name: Asha"]
    assert result.tables == [[["Dolo", "650"]]]
    assert result.key_values == [("Name:", "Asha")]
    assert result.coordinates == "pixels"


def test_multipage_pdf_job_with_pagination(textract: tuple[Any, Stubber]) -> None:
    client, stub = textract
    location = {"S3Object": {"Bucket": "docs", "Name": "scan.pdf"}}
    stub.add_response("start_document_text_detection", {"JobId": "job-123"}, {"DocumentLocation": location})
    stub.add_response(
        "get_document_text_detection", {"JobStatus": "IN_PROGRESS"}, {"JobId": "job-123", "MaxResults": 1000}
    )
    first = {"JobStatus": "SUCCEEDED", "DocumentMetadata": {"Pages": 2}, "Blocks": _page_blocks(1),
             "NextToken": "tok-2",
             "DetectDocumentTextModelVersion": "1.0"}  # fmt: skip
    stub.add_response("get_document_text_detection", first, {"JobId": "job-123", "MaxResults": 1000})
    second = {"JobStatus": "SUCCEEDED", "DocumentMetadata": {"Pages": 2}, "Blocks": _page_blocks(2)}
    stub.add_response(
        "get_document_text_detection", second, {"JobId": "job-123", "MaxResults": 1000, "NextToken": "tok-2"}
    )
    sleeps: list[float] = []
    doc = TextractOcr(client, sleep=sleeps.append).read_s3_document("docs", "scan.pdf")
    assert [(line.page, line.text) for line in doc.lines] == [
        (0, "Rx"),
        (0, "Metformin 500 mg BD"),
        (1, "Rx"),
        (1, "Metformin 500 mg BD"),
    ]
    assert doc.coordinates == "normalised" and doc.pages == 2 and "ratios" in doc.warnings[0]
    assert doc.lines[1].box[0] == pytest.approx((0.1, 0.3))
    assert sleeps == [1.0]


def test_failed_job_and_bad_documents(textract: tuple[Any, Stubber]) -> None:
    client, stub = textract
    stub.add_response("start_document_text_detection", {"JobId": "job-9"}, None)
    stub.add_response(
        "get_document_text_detection", {"JobStatus": "FAILED", "StatusMessage": "Unsupported document format"}, None
    )
    with pytest.raises(ProviderUnavailable, match="Unsupported document format"):
        TextractOcr(client, sleep=lambda s: None).read_s3_document("docs", "bad.pdf")
    stub.add_client_error(
        "detect_document_text", service_error_code="UnsupportedDocumentException", http_status_code=400
    )
    with pytest.raises(UnsupportedInput):
        TextractOcr(client).read_image(_png())


def test_throttling_falls_back_to_the_offline_engine(textract: tuple[Any, Stubber]) -> None:
    client, stub = textract
    stub.add_client_error(
        "detect_document_text", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
    )

    class Offline:
        name = "rapidocr"

        def read_image(self, image_bytes: bytes, page: int = 0) -> list[OcrLine]:
            return [OcrLine("offline", ((0, 0), (1, 0), (1, 1), (0, 1)), 0.9, page)]

    ocr = FallbackOcr(TextractOcr(client), Offline())
    assert [line.text for line in ocr.read_image(_png())] == ["offline"]
    assert ocr.last_fallback is not None and "rapidocr" in ocr.last_fallback and "throttling" in ocr.last_fallback


def test_read_pdf_uploads_to_s3_and_deletes_it(textract: tuple[Any, Stubber]) -> None:
    client, stub = textract
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="docs")
        stub.add_response(
            "start_document_text_detection",
            {"JobId": "job-1"},
            {"DocumentLocation": {"S3Object": {"Bucket": "docs", "Name": ANY}}},
        )
        stub.add_response("get_document_text_detection", {"JobStatus": "SUCCEEDED", "Blocks": _page_blocks(1)}, None)
        doc = TextractOcr(client, s3_client=s3, bucket="docs").read_pdf(b"%PDF-1.7 fake")
        assert [line.text for line in doc.lines] == ["Rx", "Metformin 500 mg BD"]
        assert s3.list_objects_v2(Bucket="docs").get("KeyCount") == 0
