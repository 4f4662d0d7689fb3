"""The one small context every team construct takes beside the model part it serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class TeamContext:
    """Whose the construct's resources are, where, and the tags they carry (the stack decides
    them: the team's base tags, or those with a pool's or job's ModelID). Passed as `context=`."""

    team: str
    region: str
    tags: Mapping[str, str]
