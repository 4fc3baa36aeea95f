"""Who may do what. Every service function calls :func:`require` before it acts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.domain.errors import PermissionDenied
from backend.domain.models import AuditEvent, Role
from backend.ports import AuditLog


class Permission(StrEnum):
    READ_PATIENTS = "read patients"
    WRITE_PATIENTS = "register and edit patients"
    RECORD = "record consultations"
    DIGITIZE = "digitize documents"
    EDIT_NOTES = "edit draft notes"
    SIGN_NOTES = "sign notes"
    IMPORT_METRICS = "import health data"
    ASK = "ask questions about records"
    READ_AUDIT = "read the audit trail"
    MANAGE_USERS = "manage users"
    MANAGE_PROVIDERS = "manage providers"
    EXPORT = "export records"
    APPLY_RETENTION = "apply the retention policy"


_NURSE = {
    Permission.READ_PATIENTS,
    Permission.WRITE_PATIENTS,
    Permission.RECORD,
    Permission.DIGITIZE,
    Permission.EDIT_NOTES,
    Permission.IMPORT_METRICS,
}
_DOCTOR = _NURSE | {Permission.SIGN_NOTES, Permission.READ_AUDIT, Permission.ASK, Permission.EXPORT}
# Admins run the system; they do not read clinical records.
_ADMIN = {Permission.MANAGE_USERS, Permission.MANAGE_PROVIDERS, Permission.READ_AUDIT, Permission.APPLY_RETENTION}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.NURSE: frozenset(_NURSE),
    Role.DOCTOR: frozenset(_DOCTOR),
    Role.ADMIN: frozenset(_ADMIN),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as services see it."""

    username: str
    role: Role
    extra: frozenset[Permission] = frozenset()

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role] or permission in self.extra


def require(principal: Principal | None, permission: Permission) -> Principal:
    """Raise :class:`PermissionDenied` unless ``principal`` holds ``permission``."""
    if principal is None:
        raise PermissionDenied("Please sign in first.")
    if not principal.can(permission):
        raise PermissionDenied(f"Your role ({principal.role.value}) may not {permission.value}.")
    return principal


# The audit actor of the machine's operator (the command line, a scheduler). A username can never hold
# parentheses, and names like "cli" are reserved at account creation, so no web user can pass for it.
OPERATOR = "(command line)"
OPERATOR_ROLE = "operator"


def record(audit: AuditLog, principal: Principal, action: str, patient_id: str | None = None, detail: str = "") -> None:
    """Append one line to the audit trail (the operator's actions carry the role ``operator``)."""
    audit.append(
        AuditEvent(
            actor=principal.username,
            role=OPERATOR_ROLE if principal.username == OPERATOR else principal.role.value,
            action=action,
            patient_id=patient_id,
            detail=detail[:500],
        )
    )
