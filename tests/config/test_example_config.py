"""The commented example config documents every declared key, and nothing else, at its default."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from cardsender.config.loading import load_config, parse_config
from cardsender.config.model import Config, DatabaseConfig, OfficeConfig, config_keys
from cardsender.system import paths

# A table header or a key line, commented out or not: "[email]", "# [offices.east]", "# port = 587".
_HEADER = re.compile(r"^#?\s*\[([\w.]+)\]\s*$")
_KEY = re.compile(r"^#?\s*(\w+)\s*=")
# The example shows one office of a sample shop, which ``init`` and the demo write as the starting point.
SAMPLE_OFFICE = OfficeConfig(
    name="Harbour Street Bikes",
    sender_name="Maria Lopez",
    from_address="hello@harbourbikes.example",
    reply_to="maria@harbourbikes.example",
    phone="+1 207 555 0100",
    website="https://harbourbikes.example",
    unsubscribe_url="",
    postal_address="12 Harbour Street\nPortland, ME 04101\nUnited States",
    signature="Maria and the team at Harbour Street Bikes",
    timezone="America/New_York",
    country="US",
    subdivision="ME",
    language="en",
    send_time=dt.time(9, 0),
    start_date=None,
)


def mentioned_keys(text: str) -> set[str]:
    """Return the dotted keys a config text names, set or commented out; an [offices.<key>] table is "offices"."""
    found: set[str] = set()
    table = ""
    for line in text.splitlines():
        if header := _HEADER.match(line):
            table = header[1]
            if table.startswith("offices."):
                found.add("offices")
            elif table == "occasions.thanksgiving.rules":
                found.add(table)  # its keys are country codes, not settings
            continue
        if (key := _KEY.match(line)) and table != "occasions.thanksgiving.rules":
            found.add(f"offices.<key>.{key[1]}" if table.startswith("offices.") else f"{table}.{key[1]}")
    return found


def test_example_config_is_the_defaults_with_a_sample_office() -> None:
    """Beyond [office], the example parses to exactly the defaults; the computed ones are worked out the same way."""
    example = paths.example_config()
    folder = example.resolve().parent
    defaults = parse_config({}, None)
    expected = replace(
        defaults,
        path=example,
        office=SAMPLE_OFFICE,
        offices=(SAMPLE_OFFICE,),
        # Computed: a relative SQLite file is beside the config file (without a file, in the platform data folder).
        database=DatabaseConfig(url=f"sqlite:///{folder / 'cardsender.db'}"),
        # Computed: a relative outbox folder is beside the config file.
        email=replace(defaults.email, outbox_dir=folder / "outbox"),
    )
    assert load_config(example) == expected


def test_defaults_without_a_file_compute_the_database_and_keep_relative_paths() -> None:
    """Without a file, the database is in the platform data folder and the office clock is UTC."""
    defaults = parse_config({}, None)
    assert defaults == Config(
        path=None,
        office=OfficeConfig(),
        database=DatabaseConfig(url=f"sqlite:///{paths.data_dir() / 'cardsender.db'}"),
        offices=(OfficeConfig(),),
    )
    assert defaults.office.timezone == "UTC"


def test_example_config_mentions_every_declared_key_and_no_other() -> None:
    """Every declared key appears in the example, set or commented out, and the example names no other key."""
    office_keys = {key.removeprefix("office.") for key in config_keys() if key.startswith("office.")}
    mentioned = mentioned_keys(paths.example_config().read_text(encoding="utf-8"))
    in_offices = {key.removeprefix("offices.<key>.") for key in mentioned if key.startswith("offices.<key>.")}
    assert in_offices <= office_keys
    assert mentioned - {f"offices.<key>.{key}" for key in in_offices} == set(config_keys())


def test_mentioned_keys_reads_set_and_commented_keys() -> None:
    """The example's reader sees set keys, commented-out keys and tables, and skips the rules' country codes."""
    text = (
        '[email]\nhost = ""\n# port = 587\n# [offices.east]\n# name = "East"\n'
        '# [occasions.thanksgiving.rules]\n# LR = "1st Thursday of November"\n'
    )
    assert mentioned_keys(text) == {
        "email.host",
        "email.port",
        "offices",
        "offices.<key>.name",
        "occasions.thanksgiving.rules",
    }
