"""The last step of every FHIR export here: the Bundle validated by the R4 model, dumped as JSON-ready data.

Also the one way the exports write a time (:func:`instant`), so the R4 and ABDM bundles never differ in it.

Validation runs once, on the whole Bundle; the dump is :func:`backend.formats.fhir_dump.dump` (the library's own
output, element for element, in a fraction of its time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from backend.domain.errors import ValidationFailed
from backend.formats.fhir_dump import dump


def validated_bundle(bundle: dict[str, Any], what: str) -> dict[str, Any]:
    """``bundle`` checked against the R4 Bundle model, as JSON-ready data (the model's own dump).

    Args:
        bundle: the Bundle as plain data.
        what: names it in the error, e.g. ``The FHIR export of PAT_…``.

    Raises:
        ValidationFailed: it did not validate (a bug or a malformed stored value); the reason, shortened.
    """
    try:
        model = Bundle.model_validate(bundle)
    except ValueError as e:  # pydantic.ValidationError is a ValueError
        raise ValidationFailed(f"{what} did not validate: {str(e)[:300]}") from e
    return dump(model)


def instant(ms: int) -> str:
    """A time in epoch milliseconds as a FHIR instant: UTC, to the second, with its offset."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
