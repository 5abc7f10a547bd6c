"""No Christmas cards, refused in the office's words only: templates, notes, the signature and the occasions."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from pathlib import Path

import pytest
from click.testing import Result

from cardsender.config.loading import CHRISTMAS_POLICY, load_config
from cardsender.domain.christmas import christmas_words, find, names_christmas
from cardsender.domain.errors import ConfigError
from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.store import notes as card_queries
from cardsender.store.customers import add_event, find_internal_id, insert_customer
from tests.support.cli import run as run_cli
from tests.support.office import Office

REASON = "cardsender never sends Christmas cards: every business sends them, so they say nothing about the customer"
# Saturday 14 March 2026, 10:00 in Toronto: the customers' birthday, the day after the mug was bought.
NOW = "2026-03-14T14:00:00+00:00"
TODAY = dt.date(2026, 3, 14)
WRITTEN_AT = dt.datetime(2026, 3, 1, 9, 0)
BORN = "1980-03-14"
BIRTHDAYS = [
    {"id": "N1", "first_name": "Noel", "last_name": "Fischer", "email": "noel@example.com", "birthday": BORN},
    {
        "id": "N2",
        "first_name": "Noël",
        "last_name": "Tremblay",
        "email": "noel.tremblay@example.ca",
        "birthday": BORN,
        "language": "fr-CA",
        "city": "Montréal",
    },
    {"id": "N3", "first_name": "Noelle", "last_name": "Brooks", "email": "noelle@example.com", "birthday": BORN},
    {"id": "N4", "first_name": "Merry", "last_name": "Okafor", "email": "merry@example.com", "birthday": BORN},
    {"id": "N5", "first_name": "Natale", "last_name": "Russo", "email": "natale@example.it", "birthday": BORN},
    {
        "id": "N6",
        "first_name": "Joana",
        "last_name": "Natal",
        "email": "joana@example.com.br",
        "birthday": BORN,
        "city": "Natal",
        "country": "BR",
    },
    {
        "id": "N7",
        "first_name": "Astrid",
        "last_name": "Lund",
        "email": "astrid@example.se",
        "birthday": BORN,
        "city": "Jul",
        "language": "sv",
        "country": "SE",
    },
]
MUG = {"id": "T1", "first_name": "Priya", "last_name": "Shah", "email": "priya@example.com"}


def run(ws: Office, *args: str) -> Result:
    """Run cardsender with the workspace's config, on NOW."""
    return run_cli(ws, *args, env={"CARDSENDER_TEST_NOW": NOW})


@pytest.fixture
def shop(workspace: Office) -> Office:
    """Return a workspace whose customers' names and purchases look like Christmas, and are not."""
    text = workspace.config_path.read_text(encoding="utf-8")
    fast = text.replace('outbox_dir = "outbox"', 'outbox_dir = "outbox"\nrate_per_minute = 60000')  # no pacing
    workspace.config_path.write_text(fast, encoding="utf-8")
    with workspace.open_store() as store, store.begin() as conn:
        for fields in BIRTHDAYS:
            insert_customer(conn, parse_customer_fields({**fields, "channel": "email"}), TODAY, WRITTEN_AT)
        row = insert_customer(conn, parse_customer_fields({**MUG, "channel": "email"}), TODAY, WRITTEN_AT)
        bought = dt.datetime(2026, 3, 13, 11, 0)
        add_event(conn, row, ContactEvent("T1", bought, "purchase", "Noël-themed mug", "import"), WRITTEN_AT)
    return workspace


def edit_copied_templates(ws: Office, folder: Path, edits: dict[str, str]) -> None:
    """Copy the bundled templates with `templates copy`, add a line to some files, and use the folder."""
    assert run(ws, "templates", "copy", str(folder)).exit_code == 0
    for name, line in edits.items():
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + f"\n{line}\n", encoding="utf-8")
    with ws.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[templates]\ndir = "{folder.as_posix()}"\n')


def lines_of(path: Path) -> int:
    """Return how many lines a file has."""
    return len(path.read_text(encoding="utf-8").splitlines())


# The search itself.


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Dear {{ customer.first_name }}, MERRY Xmas!", ["MERRY Xmas"]),
        ("Frohe Weihnachten und alles Gute", ["Frohe Weihnachten"]),
        ("Herzliche WEIHNACHTSGRÜSSE aus dem Laden", ["WEIHNACHTSGRÜSSE"]),
        ("Joyeux Noel et merci!", ["Joyeux Noel"]),
        ("Joyeux\nNoël", ["Joyeux Noël"]),
        ("Season’s greetings from the team", ["Season’s greetings"]),
        ("Feliz Navidad", ["Feliz Navidad"]),
        ("Buon Natale a tutti", ["Buon Natale"]),
        ("Vrolijk kerstfeest!", ["Vrolijk kerstfeest"]),
        ("Feliz Natal e um ótimo ano", ["Feliz Natal"]),
        ("Wesołych Świąt i szczęśliwego roku", ["Wesołych Świąt"]),
        ("Wesolych Swiat", ["Wesolych Swiat"]),
        ("Życzenia na Boże Narodzenie", ["Boże Narodzenie"]),
        ("God jul och gott nytt år", ["God jul"]),
        ("Glædelig jul", ["Glædelig jul"]),
        ("Hyvää joulua!", ["Hyvää joulua"]),
        ("Veselé Vánoce", ["Veselé Vánoce"]),
        ("Happy Holidays and a X-mas treat", ["Happy Holidays", "X-mas"]),
    ],
)
def test_christmas_wording_is_found_in_every_language(text: str, found: list[str]) -> None:
    """Greetings are found whole, whatever the case, the accents, the apostrophe or the line break."""
    assert [f.words for f in find(text)] == found


@pytest.mark.parametrize(
    "text",
    [
        "Noel, Noël, Noelle, Merry and Natale came by",
        "Thanks for the Noël-themed mug order",
        "Hope the move to Natal went well",
        "Vi ses i jul, Astrid",  # jul alone is also July, abbreviated
        "Bis Juli! Ses den 5 jul 2026",
        "Bonne fête, Élodie!",  # a birthday wish in Québec
        "Nähdään joulukuussa",  # in December
        "Kerstin and the team",
        "Merry-go-round rides at the fair",
    ],
)
def test_names_places_and_months_are_not_christmas(text: str) -> None:
    """A first name, a city, a month or a birthday wish alone is not Christmas wording."""
    assert find(text) == []


def test_the_line_of_each_word_is_counted() -> None:
    """Each word found says the line it is on, and the words are listed once each, lower-cased."""
    text = "Hi\nFrohe Weihnachten\n\nand a frohe weihnachten again"
    assert [(f.words, f.line) for f in find(text)] == [("Frohe Weihnachten", 2), ("frohe weihnachten", 4)]
    assert christmas_words(text) == ["frohe weihnachten"]


@pytest.mark.parametrize("name", ["christmas", "christmas_eve", "xmas", "noel", "navidad", "natale", "god_jul", "jul"])
def test_an_occasion_named_for_christmas_in_any_language_is_christmas(name: str) -> None:
    """As the name of an occasion, even Noel, Natale and jul mean Christmas."""
    assert names_christmas(name)


# Customers' names and purchases are theirs, never checked.


def test_customers_named_like_christmas_get_their_birthday_card_in_preview(shop: Office) -> None:
    """Noel, Noël, Noelle, Merry, Natale, and customers in Natal and Jul, each see their birthday card ready."""
    for fields in BIRTHDAYS:
        result = run(shop, "preview", fields["id"], "birthday")
        assert result.exit_code == 0, result.output
        name = fields["first_name"]
        assert result.stdout.startswith(f"To: {name} {fields['last_name']} <{fields['email']}>\nSubject: ")
        assert result.stdout.count(name) >= 3  # the subject or the greeting, the email, the printed card
        assert result.stderr.startswith("Ready to send (wording v"), result.stderr


def test_customers_named_like_christmas_and_a_noel_mug_are_sent(shop: Office) -> None:
    """A real send delivers every birthday card and the thank-you for the Noël-themed mug."""
    result = run(shop, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Sent 8 cards on 2026-03-14: 0 to retry, 0 failed, 0 unknown, 0 held, 0 cancelled."
    )
    sent = {
        (row["customer_id"], row["occasion"], row["state"]) for row in json.loads(run(shop, "outbox", "--json").stdout)
    }
    assert sent == {*((f["id"], "birthday", "sent") for f in BIRTHDAYS), ("T1", "thank_you", "sent")}
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (shop.root / "outbox").glob("*.eml")
    ]
    assert sorted(str(m["To"]) for m in messages) == sorted(
        f"{f['first_name']} {f['last_name']} <{f['email']}>" for f in [*BIRTHDAYS, MUG]
    )
    thanks = next(m for m in messages if "priya@example.com" in str(m["To"]))
    text = thanks.get_body(("plain",))
    assert text is not None and "Noël-themed mug" in text.get_content()


# The office's templates.


def test_a_copied_template_edited_to_say_frohe_weihnachten_is_refused_naming_the_file(
    shop: Office, tmp_path: Path
) -> None:
    """preview refuses a card whose template says Frohe Weihnachten, naming the file, the line and the fix."""
    folder = tmp_path / "my-cards"
    variants = ("v1", "v2", "v3")
    edit_copied_templates(shop, folder, {f"birthday/{v}/body.txt": "Frohe Weihnachten!" for v in variants})
    result = run(shop, "preview", "N1", "birthday")
    assert result.exit_code == 1
    chosen = next(v for v in variants if f"/birthday/{v}/body.txt" in result.output)
    path = folder / "birthday" / chosen / "body.txt"
    assert result.output == (
        f"Error: template {path}, line {lines_of(path)}: 'Frohe Weihnachten' is Christmas wording, and {REASON}; "
        "take the words out of the template\n"
    )


def test_a_held_card_names_the_christmas_template_when_sending(shop: Office, tmp_path: Path) -> None:
    """send holds the card of a template saying Joyeux Noël and says which file; the others go out."""
    folder = tmp_path / "my-cards"
    edit_copied_templates(
        shop,
        folder,
        {
            "thank_you/v1/subject.txt": "Joyeux Noël",
            "thank_you/v2/subject.txt": "Joyeux Noël",
            "thank_you/v3/subject.txt": "Joyeux Noël",
        },
    )
    result = run(shop, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    held = [line for line in result.stdout.splitlines() if line.startswith("held")]
    assert len(held) == 1 and held[0].split()[1] == "T1"
    chosen = next(v for v in ("v1", "v2", "v3") if f"/thank_you/{v}/subject.txt" in held[0])
    subject = folder / "thank_you" / chosen / "subject.txt"
    assert held[0].endswith(
        f"the template cannot be used: template {subject}, line {lines_of(subject)}: 'Joyeux Noël' is Christmas "
        f"wording, and {REASON}; take the words out of the template"
    )
    assert result.stdout.splitlines()[-1].startswith("Sent 7 cards on 2026-03-14:")


def test_templates_check_reports_christmas_wording_in_any_file_once(shop: Office, tmp_path: Path) -> None:
    """The check names each file with Christmas wording once, even a language no sample customer reads."""
    folder = tmp_path / "my-cards"
    edit_copied_templates(shop, folder, {"birthday/v2/card.fr.txt": "Joyeux Noël !"})
    german = folder / "thank_you" / "v1" / "body.de.txt"
    german.write_text("Hallo {{ customer.first_name }},\n\nFrohe Weihnachten\n", encoding="utf-8")
    result = run(shop, "templates", "check")
    assert result.exit_code == 1
    french = folder / "birthday" / "v2" / "card.fr.txt"
    assert result.stderr.splitlines() == [
        f"birthday/v2 for every customer: template {french}, line {lines_of(french)}: 'Joyeux Noël' is Christmas "
        f"wording, and {REASON}; take the words out of the template",
        f"thank_you/v1 for every customer: template {german}, line 3: 'Frohe Weihnachten' is Christmas wording, "
        f"and {REASON}; take the words out of the template",
    ]
    assert result.stdout.endswith(": 2 problems.\n")


def test_a_jinja_comment_is_not_the_cards_words(shop: Office, tmp_path: Path) -> None:
    """A comment for whoever edits the template never reaches a customer, so it may say Christmas."""
    folder = tmp_path / "my-cards"
    edit_copied_templates(shop, folder, {"birthday/v1/body.txt": "{# No Christmas wording here, ever. #}"})
    result = run(shop, "templates", "check")
    assert (result.exit_code, result.stderr) == (0, "")


# Staff notes.


def test_a_note_wishing_merry_christmas_is_refused(shop: Office) -> None:
    """cardsender note refuses Christmas wording with the words and the fix, and stores nothing."""
    result = run(shop, "note", "N1", "Merry Christmas! See you at the shop.")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: the note is refused: 'Merry Christmas' is Christmas wording, and {REASON}; "
        "take the words out and write the note again\n",
    )
    with shop.open_store() as store, store.begin() as conn:
        assert card_queries.next_note(conn, "N1", "birthday") == ""


def test_a_note_naming_natal_and_noel_is_taken(shop: Office) -> None:
    """A note that mentions Natal or Noel as a place or a person goes into the card."""
    result = run(shop, "note", "N6", "Hope the move back to Natal went well, and say hi to Noel!")
    assert result.exit_code == 0, result.output
    preview = run(shop, "preview", "N6", "birthday")
    assert "Hope the move back to Natal went well, and say hi to Noel!" in preview.stdout
    assert preview.stderr.startswith("Ready to send")


def test_a_christmas_note_stored_earlier_holds_the_card(shop: Office) -> None:
    """A note stored before notes were checked does not go out: preview and send hold the card and say why."""
    with shop.open_store() as store, store.begin() as conn:
        row = find_internal_id(conn, "N3")
        card_queries.add_note(conn, row, "Frohe Weihnachten, Noelle!", None, WRITTEN_AT)
    why = f"the note waiting for this card cannot go out: 'Frohe Weihnachten' is Christmas wording, and {REASON}"
    preview = run(shop, "preview", "N3", "birthday")
    assert preview.stderr.endswith(f": {why}.\n")
    assert preview.stderr.startswith("Held for review (wording v")
    sent = run(shop, "send", "--no-dry-run")
    assert [line.split(None, 3)[:2] for line in sent.stdout.splitlines() if line.startswith("held")] == [["held", "N3"]]
    assert sent.stdout.splitlines()[-1].startswith("Sent 7 cards on 2026-03-14:")


# The config.


def write_config(tmp_path: Path, text: str) -> Path:
    """Write a config file."""
    path = tmp_path / "cardsender.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("key", ["noel", "navidad", "god_jul", "christmas_eve"])
def test_a_config_adding_a_christmas_occasion_in_any_language_is_refused(tmp_path: Path, key: str) -> None:
    """[occasions.noel], [occasions.god_jul] and the like are refused with the policy."""
    path = write_config(tmp_path, f"[occasions.{key}]\nenabled = true\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: [occasions] {key}: {CHRISTMAS_POLICY}"


def test_a_signature_wishing_merry_christmas_is_refused(tmp_path: Path) -> None:
    """The signature goes on every card, so Christmas wording in it is refused, naming the key."""
    path = write_config(tmp_path, '[offices.east]\nsignature = "Merry Christmas from all of us"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: [offices.east] signature: 'Merry Christmas' is Christmas wording, and {REASON}; "
        "take the words out of the signature"
    )


def test_an_office_and_a_sender_named_noel_are_who_they_are(tmp_path: Path) -> None:
    """The office's name, the sender's and a signature with a first name are names, and are accepted."""
    path = write_config(
        tmp_path, '[office]\nname = "Noel\'s Bakery"\nsender_name = "Merry Natal"\nsignature = "Noël and the team"\n'
    )
    office = load_config(path).office
    assert (office.name, office.sender_name, office.signature) == ("Noel's Bakery", "Merry Natal", "Noël and the team")
