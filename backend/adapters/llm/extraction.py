"""Medication extraction from OCR text with any LLM engine, under the same grounding rule as drafting.

The drug name (or the printed line) and every dose number must occur in the OCR text; anything else is
removed and listed as "not found in the document".
"""

from __future__ import annotations

from collections.abc import Callable

from backend.adapters.llm.client import JsonLlm
from backend.adapters.llm.drafting import known_drug
from backend.adapters.llm.schemas import MedicationListReply
from backend.domain.grounding import ground_text_medications
from backend.domain.models import Evidence, Medication

SYSTEM = """You read the OCR text of a prescription or medication list and list the medications on it.
Rules:
- Only medications printed in the text. Never add one. Keep numbers exactly as printed.
- verbatim is the line as printed; name is the generic name if printed or certain, else the name as printed.
- Leave a field empty when the text does not say it. OCR errors stay as printed in verbatim."""
MAX_CHARS = 30_000


class LlmMedicationExtractor:
    """``extract(text) -> (medications, unsupported)``; raises ProviderUnavailable to fall back.

    Args:
        client: the configured LLM client.
        verify: drug name -> known (sets ``Medication.verified``); default: the shared dictionary.
    """

    def __init__(self, client: JsonLlm, verify: Callable[[str], bool] | None = None) -> None:
        self.client = client
        self.name = client.name
        self._verify = verify

    def extract(self, text: str) -> tuple[list[Medication], list[str]]:
        """Medications of an OCR'd document, grounded in ``text``."""
        if not text.strip():
            return [], []
        prompt = "OCR text of the document:\n<<<\n" + text[:MAX_CHARS] + "\n>>>\nList the medications as JSON."
        reply = self.client.generate_json("medication extraction", prompt, MedicationListReply, system=SYSTEM)
        meds = [m.to_medication(Evidence(quote=m.verbatim.strip())) for m in reply.medications if m.name.strip()]
        kept, unsupported = ground_text_medications(meds, text)
        verify = self._verify or known_drug
        return [m.model_copy(update={"verified": verify(m.name)}) for m in kept], unsupported
