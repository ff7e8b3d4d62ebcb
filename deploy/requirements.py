"""Print the project's dependencies (and the given extras) from pyproject.toml, one a line.

The package itself is not installed: `mailbox` is also a standard-library module, so it is
always imported from the checkout (`python -m mailbox` from the repository root).
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
wanted = list(project["dependencies"])
extras = project.get("optional-dependencies", {})
pending = sys.argv[1:]
while pending:
    for requirement in extras[pending.pop()]:
        if requirement.startswith("mailbox["):
            pending += requirement[len("mailbox[") : -1].split(",")
        else:
            wanted.append(requirement)
print("\n".join(dict.fromkeys(wanted)))
