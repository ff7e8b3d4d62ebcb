"""`mailbox` is also a standard-library module: the project's package must be the one used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mailbox

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_package_is_imported_not_the_standard_library() -> None:
    assert Path(mailbox.__file__).resolve() == ROOT / "mailbox" / "__init__.py"
    assert hasattr(mailbox, "__version__") and not hasattr(mailbox, "Maildir")


def test_python_dash_m_mailbox_runs_the_project_from_the_checkout() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailbox", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mailbox {mailbox.__version__}"
