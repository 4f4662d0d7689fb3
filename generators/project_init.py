"""`genai-finops init DIR`: a company's repository starts here. Writes, relative to the working
directory (the repository's root): genai-finops.toml naming DIR, DIR/org.yaml, DIR/teams/<team>.yaml,
.pre-commit-config.yaml and .github/workflows/genai-finops.yml, all pointing at DIR, and the
cdktf.json that `genai-finops deploy` needs. It never
replaces a file: if any of them exists, it writes nothing and says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generators.errors import ToolError, UsageError
from generators.files import write_atomically
from generators.project import PROJECT_FILE
from policies import gfo_facts as facts

TEMPLATES = Path(__file__).with_name("templates")
TEAM_NAME = re.compile(facts.TEAM_NAME_PATTERN)


@dataclass(frozen=True)
class Written:
    path: Path
    what: str


def plan(manifests: str, team: str, version: str) -> list[tuple[Path, str, str]]:
    """(path, content, what it is) for each file init writes."""
    directory = PurePosixPath(manifests)
    if directory.is_absolute() or ".." in directory.parts or not directory.parts:
        raise UsageError(f"DIR {manifests!r}: give a directory inside the repository, relative to it (e.g. manifests)")
    if not TEAM_NAME.match(team):
        raise UsageError(f"--team {team!r}: a team name is lower-case letters, digits and hyphens, 3 to 30 characters")

    def fill(template: str) -> str:
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        return text.replace("@MANIFESTS@", str(directory)).replace("@TEAM@", team).replace("@VERSION@", version)

    root = Path(str(directory))
    return [
        (Path(PROJECT_FILE), fill("genai-finops.toml"), "project settings: every command reads its manifests and output here"),
        (root / "org.yaml", fill("org.yaml"), "the org policy: replace the example account, subnets and addresses"),
        (root / "teams" / f"{team}.yaml", fill("team.yaml"), "the first team manifest"),
        (Path(".pre-commit-config.yaml"), fill("pre-commit-config.yaml"), "validate before every commit (pre-commit install)"),
        (Path(".github/workflows/genai-finops.yml"), fill("workflow.yml"), "validate, price, synthesize and scan every pull request"),
        (Path("cdktf.json"), fill("cdktf.json"), "for `genai-finops deploy` (the cdktf CLI reads it)"),
    ]


def init(manifests: str, team: str, version: str, root: Path | None = None) -> list[Written]:
    root = root if root is not None else Path.cwd()
    files = plan(manifests, team, version)
    present = [str(path) for path, _, _ in files if (root / path).exists()]
    if present:
        raise ToolError(f"init writes nothing: {', '.join(present)} already exist{'s' if len(present) == 1 else ''} (init never replaces a file)")
    written = []
    for path, content, what in files:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, content)
        written.append(Written(path, what))
    return written
