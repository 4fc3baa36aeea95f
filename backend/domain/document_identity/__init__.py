"""Right patient, right date: who a scanned document is for and when it was written, checked against the record."""

from backend.domain.document_identity.compare import (
    FieldCheck,
    IdentityCheck,
    age_on,
    compare_identity,
    describe,
    describe_patient,
)
from backend.domain.document_identity.dates import swapped_day
from backend.domain.document_identity.header import DocumentDate, DocumentIdentity, read_identity
from backend.domain.document_identity.names import name_similarity, names_agree

__all__ = [
    "DocumentDate",
    "DocumentIdentity",
    "FieldCheck",
    "IdentityCheck",
    "age_on",
    "compare_identity",
    "describe",
    "describe_patient",
    "name_similarity",
    "names_agree",
    "read_identity",
    "swapped_day",
]
