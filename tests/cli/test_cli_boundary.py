"""The command line stays a thin shell: no database, template, mail or PDF library in it, one reading of the clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "cardsender" / "cli"
MODULES = sorted(CLI.glob("*.py"))
# What the office does for the commands: SQL, templates, SMTP and PDFs.
LIBRARIES = ("sqlalchemy", "jinja2", "smtplib", "reportlab")
CLOCK = "cardsender.system.clock"
# The one module of the command line that reads the clock: once per command, frozen.
READS_THE_CLOCK = "app_context.py"


def imported_modules(path: Path) -> set[str]:
    """Return every module a file imports, at any level of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_command_module_imports_the_librarys_engines(path: Path) -> None:
    """No module of the command line imports SQLAlchemy, Jinja2, smtplib or reportlab."""
    engines = sorted(m for m in imported_modules(path) if m.split(".")[0] in LIBRARIES)
    assert engines == []


def test_one_module_of_the_command_line_reads_the_clock() -> None:
    """Only the shared context imports the clock; every command gets its time from there."""
    readers = sorted(path.name for path in MODULES if any(m.startswith(CLOCK) for m in imported_modules(path)))
    assert readers == [READS_THE_CLOCK]


def test_help_loads_none_of_the_library() -> None:
    """'cardsender --help' loads neither the office nor any of the libraries behind it."""
    code = (
        "import sys\n"
        "from cardsender.cli import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='cardsender')\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{LIBRARIES!r} or m.startswith(('cardsender.app', 'cardsender.store')))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == "[]\n"
