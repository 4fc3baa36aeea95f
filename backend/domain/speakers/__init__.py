"""Who said what, offline: each transcript turn gets a role (clinician, patient or other).

Public API:
    assign_roles(samples, segments) -> RoleResult
    roles_from_wording(segments) -> RoleResult
"""

from __future__ import annotations

from backend.domain.speakers.assign import RoleResult, assign_roles, roles_from_wording

__all__ = ["RoleResult", "assign_roles", "roles_from_wording"]
