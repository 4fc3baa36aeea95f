"""Grounded answers for Ask: the model answers from the retrieved passages and cites their ids.

The reply is accepted only when it cites at least one passage, every cited id is one of the given passages,
and every number of the answer occurs in the cited passages. Otherwise ProviderUnavailable is raised and
the Ask service shows its extractive answer instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.adapters.llm.client import JsonLlm
from backend.adapters.llm.schemas import AnswerReply
from backend.domain.errors import ProviderUnavailable
from backend.domain.grounding import supports_numbers
from backend.ports import PassageLike

SYSTEM = """You answer a clinician's question about one patient using only the numbered passages given.
Cite the ids of the passages you use in cited_ids. If the passages do not answer the question, say so and cite nothing.
Keep numbers, drug names and dates exactly as in the passages. Be brief."""
MAX_PASSAGE_CHARS = 1200


class LlmAnswerer:
    """Callable ``(question, passages) -> (text, cited passage ids)`` (the Ask service's ``Llm``)."""

    def __init__(self, client: JsonLlm) -> None:
        self.client = client
        self.name = client.name

    def __call__(self, question: str, passages: Sequence[PassageLike]) -> tuple[str, list[str]]:
        if not passages:
            raise ProviderUnavailable("No passages to answer from.")
        blocks = [f"[{p.id}] ({p.label}) {p.text[:MAX_PASSAGE_CHARS]}" for p in passages]
        prompt = "Passages:\n" + "\n".join(blocks) + f"\n\nQuestion: {question}\nAnswer as JSON."
        reply = self.client.generate_json("answer", prompt, AnswerReply, system=SYSTEM)
        return check_answer(reply, passages)


def check_answer(reply: AnswerReply, passages: Sequence[PassageLike]) -> tuple[str, list[str]]:
    """The answer and its citations, or ProviderUnavailable when they are not grounded in ``passages``."""
    by_id = {p.id: p for p in passages}
    cited = list(dict.fromkeys(c.strip() for c in reply.cited_ids if c.strip()))
    text = reply.answer.strip()
    if not text or not cited:
        raise ProviderUnavailable("The generated answer cited no record.")
    unknown = [c for c in cited if c not in by_id]
    if unknown:
        raise ProviderUnavailable(f"The generated answer cited records that were not given ({', '.join(unknown[:3])}).")
    evidence = " ".join(by_id[c].text for c in cited)
    if not supports_numbers(evidence, text):
        raise ProviderUnavailable("The generated answer contains numbers its cited records do not.")
    return text, cited
