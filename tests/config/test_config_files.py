"""Config files as Windows editors save them: UTF-8 with a byte-order mark, UTF-16, and ANSI (Windows-1252)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.office import Office

SAVE_AS_UTF8 = "save it as UTF-8 (Notepad: File > Save as, Encoding: UTF-8)"
# An office whose name needs more than ASCII, so that a wrong decoding shows.
CAFE = 'name = "Café Müller"'


def resave(workspace: Office, encoding: str, bom: bytes = b"") -> str:
    """Save the workspace's config again, named Café Müller, in an encoding; return the text."""
    text = workspace.config_path.read_text(encoding="utf-8").replace('name = "Harbour Street Bikes"', CAFE)
    workspace.config_path.write_bytes(bom + text.replace("\n", "\r\n").encode(encoding))
    return text


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)],
    ids=["utf-8 with BOM", "utf-16 LE (Notepad's Unicode)", "utf-16 BE"],
)
def test_a_config_saved_with_a_byte_order_mark_is_read(workspace: Office, encoding: str, bom: bytes) -> None:
    """UTF-8 with a BOM and UTF-16 with its BOM, as Notepad saves them, are read like plain UTF-8."""
    resave(workspace, encoding, bom)
    result = run(workspace.config_path, "customers", "list", "--json")
    assert (result.exit_code, result.output) == (0, "[]\n")
    office = workspace.config().office
    assert (office.name, office.timezone, office.country) == ("Café Müller", "America/Toronto", "CA")


def test_a_config_saved_as_ansi_is_one_line_naming_the_file_line_and_fix(workspace: Office) -> None:
    """A file in Windows-1252 is refused in one line with the file, the line, the byte and how to save it."""
    text = resave(workspace, "cp1252")
    line = text.splitlines().index(CAFE) + 1
    result = run(workspace.config_path, "customers", "list")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {workspace.config_path}: line {line} is not valid UTF-8 (it looks saved as ANSI or Windows-1252), "
        f"at byte 0xE9; {SAVE_AS_UTF8}\n",
    )


def test_a_config_in_utf16_without_a_byte_order_mark_says_how_to_save_it(workspace: Office) -> None:
    """UTF-16 without its mark cannot be told apart for sure, so it is refused with the fix, not a traceback."""
    resave(workspace, "utf-16-le")
    result = run(workspace.config_path, "customers", "list")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {workspace.config_path}: looks saved as UTF-16 without a byte-order mark; {SAVE_AS_UTF8}\n",
    )


def test_a_broken_utf16_config_is_one_line(tmp_path: Path) -> None:
    """A UTF-16 file cut in the middle of a character is refused in one line, naming the encoding."""
    config = tmp_path / "cardsender.toml"
    config.write_bytes(codecs.BOM_UTF16_LE + '[office]\nname = "Café"\n'.encode("utf-16-le")[:-1])
    result = run(config, "customers", "list")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {config}: line 2 is not valid UTF-16-LE, at byte 0x")
    assert result.output.endswith(f"; {SAVE_AS_UTF8}\n")
