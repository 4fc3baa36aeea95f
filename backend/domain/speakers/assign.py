"""Role assignment: the voices of a recording (acoustic clustering) named by their wording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from backend.domain.models import Segment

ROLES = ("clinician", "patient", "other")


@dataclass(frozen=True)
class RoleResult:
    """Segments with ``speaker`` set to a role, and what the clinician should know about how."""

    segments: list[Segment]
    warnings: list[str] = field(default_factory=list)
    voices: int = 0  # distinct voices heard (0: not measured)


def roles_from_wording(segments: Sequence[Segment]) -> RoleResult:
    """Roles from what each turn says (no audio): placeholder until the wording model lands."""
    return RoleResult(list(segments))


def assign_roles(samples: NDArray[np.float32], segments: Sequence[Segment]) -> RoleResult:
    """Roles for segments that carry none (segments with an engine's speaker labels are kept as they are)."""
    if segments and all(s.speaker for s in segments):
        return RoleResult(list(segments))
    return roles_from_wording(segments)
