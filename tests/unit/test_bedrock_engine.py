"""The Bedrock engine's own behaviour, against botocore's Stubber answering with documented Converse replies.

The Stubber also validates every request against the ``bedrock-runtime`` service model, so a request the
real API would reject fails here too. (Replies shared by every engine are tested in
``tests/integration/test_llm_engines_shared.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from backend.adapters.llm import LlmDrafter, RetryPolicy
from backend.adapters.llm.bedrock import DEFAULT_MODEL, BedrockClient, tool_name
from backend.adapters.llm.json_schema import inline_schema
from backend.adapters.llm.schemas import AnswerReply, NoteDraftReply
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import Segment

SEGMENTS = [Segment(id=0, start=0.0, end=4.0, text="Start metformin 500 mg twice daily.", speaker="doctor")]
ANSWER = {"answer": "Metformin 500 mg twice daily.", "cited_ids": ["n1"]}


def converse(content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 50, "outputTokens": 20, "totalTokens": 70},
        "metrics": {"latencyMs": 400},
    }


def tool_reply(schema: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    return converse([{"toolUse": {"toolUseId": "tooluse_1", "name": tool_name(schema), "input": data}}], "tool_use")


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    runtime = boto3.client(
        "bedrock-runtime", region_name="ap-south-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(runtime) as stubber:
        yield runtime, stubber
        stubber.assert_no_pending_responses()


def client(runtime: Any, sleeps: list[float], attempts: int = 3) -> BedrockClient:
    return BedrockClient(client=runtime, retry=RetryPolicy(attempts=attempts), sleep=sleeps.append)


def test_structured_output_is_a_forced_tool_whose_schema_is_the_model(stubbed: tuple[Any, Stubber]) -> None:
    runtime, stubber = stubbed
    name = tool_name(AnswerReply)
    expected = {
        "modelId": DEFAULT_MODEL,
        "system": [{"text": "Answer from the passages."}],
        "messages": [{"role": "user", "content": [{"text": "Which medicine?"}]}],
        "inferenceConfig": {"maxTokens": 8192, "temperature": 0.0},
        "toolConfig": {
            "tools": [
                {"toolSpec": {"name": name, "description": ANY, "inputSchema": {"json": inline_schema(AnswerReply)}}}
            ],
            "toolChoice": {"tool": {"name": name}},
        },
    }
    stubber.add_response("converse", tool_reply(AnswerReply, ANSWER), expected)
    sleeps: list[float] = []
    reply = client(runtime, sleeps).generate_json(
        "answer", "Which medicine?", AnswerReply, system="Answer from the passages."
    )
    assert reply == AnswerReply(**ANSWER) and sleeps == []
    assert "$ref" not in json.dumps(inline_schema(NoteDraftReply))  # nested models are inlined for the tool schema


def test_model_not_ready_is_retried_with_backoff(stubbed: tuple[Any, Stubber]) -> None:
    runtime, stubber = stubbed
    stubber.add_client_error("converse", "ModelNotReadyException", "Model is not ready for inference.", 429)
    stubber.add_client_error("converse", "ThrottlingException", "Too many requests.", 429)
    stubber.add_response("converse", tool_reply(AnswerReply, ANSWER))
    sleeps: list[float] = []
    assert client(runtime, sleeps).generate_json("answer", "q", AnswerReply).answer == ANSWER["answer"]
    assert len(sleeps) == 2 and sleeps[0] <= 1.0 and sleeps[1] <= 2.0  # full jitter under 1 s, then 2 s


def test_access_denied_names_the_missing_model_access_and_is_not_retried(stubbed: tuple[Any, Stubber]) -> None:
    runtime, stubber = stubbed
    stubber.add_client_error(
        "converse", "AccessDeniedException", "You don't have access to the model with the specified model ID.", 403
    )
    sleeps: list[float] = []
    with pytest.raises(ProviderUnavailable) as caught:
        client(runtime, sleeps).generate_json("answer", "q", AnswerReply)
    message = caught.value.message
    assert DEFAULT_MODEL in message and "Model access" in message and "ap-south-1" in message
    assert sleeps == []


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("ResourceNotFoundException", 404, "COPILOT_BEDROCK_MODEL_ID"),
        ("ValidationException", 400, "rejected the request"),
        ("ModelErrorException", 424, "rejected the request"),
    ],
)
def test_request_errors_are_explained_and_not_retried(
    stubbed: tuple[Any, Stubber], code: str, status: int, words: str
) -> None:
    runtime, stubber = stubbed
    stubber.add_client_error("converse", code, "problem", status)
    sleeps: list[float] = []
    with pytest.raises(ProviderUnavailable, match=words):
        client(runtime, sleeps).generate_json("answer", "q", AnswerReply)
    assert sleeps == []


@pytest.mark.parametrize(
    ("stop", "words"),
    [("max_tokens", "truncated"), ("guardrail_intervened", "stop reason guardrail_intervened"),
     ("malformed_tool_use", "stop reason malformed_tool_use")],
)  # fmt: skip
def test_stop_reasons_other_than_a_finished_turn_are_refused(
    stubbed: tuple[Any, Stubber], stop: str, words: str
) -> None:
    runtime, stubber = stubbed
    stubber.add_response("converse", converse([{"toolUse": {"toolUseId": "t", "name": tool_name(AnswerReply),
                                                            "input": ANSWER}}], stop))  # fmt: skip
    with pytest.raises(ProviderUnavailable, match=words):
        client(runtime, []).generate_json("answer", "q", AnswerReply)


def test_a_call_to_another_tool_is_not_taken_as_the_answer(stubbed: tuple[Any, Stubber]) -> None:
    runtime, stubber = stubbed
    other = {"toolUse": {"toolUseId": "t", "name": "record_Something", "input": ANSWER}}
    stubber.add_response("converse", converse([other], "tool_use"))
    with pytest.raises(ProviderUnavailable, match="not valid JSON"):
        client(runtime, []).generate_json("answer", "q", AnswerReply)


def test_drafting_through_bedrock_keeps_only_what_was_said(stubbed: tuple[Any, Stubber]) -> None:
    runtime, stubber = stubbed
    draft = {
        "sentences": [
            {"section": "plan", "kind": "plan", "text": "Start metformin 500 mg twice daily.", "segment_ids": [0]}
        ],
        "medications": [
            {"name": "metformin", "verbatim": "metformin 500 mg", "strength": "500 mg", "segment_ids": [0]},
            {"name": "warfarin", "verbatim": "warfarin 5 mg", "strength": "5 mg", "segment_ids": [0]},
        ],
    }
    stubber.add_response("converse", tool_reply(NoteDraftReply, draft))
    content = LlmDrafter(client(runtime, []))(SEGMENTS)
    assert [m.name for m in content.medications] == ["metformin"] and "warfarin" not in content.sections["plan"]
    assert any("warfarin" in u for u in content.provenance.unsupported)
    assert content.provenance.engine == f"bedrock:{DEFAULT_MODEL}"


def test_connection_check_sends_no_patient_data(stubbed: tuple[Any, Stubber]) -> None:
    runtime, stubber = stubbed
    expected = {
        "modelId": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": [{"text": "Reply with the word OK."}]}],
        "inferenceConfig": {"maxTokens": 5, "temperature": 0.0},
    }
    stubber.add_response("converse", converse([{"text": "OK"}], "end_turn"), expected)
    assert client(runtime, []).check() == f"Bedrock reachable in ap-south-1; model {DEFAULT_MODEL} answered."
