"""The outbox's state machine: every move the table allows works, any other is refused, and the code makes
exactly the moves the table lists, all through one function."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardsender.domain import vocabulary
from cardsender.domain.records import Card
from cardsender.domain.vocabulary import OUTBOX_MOVES, OutboxState
from cardsender.planning.facts import add_card
from cardsender.store import Store
from cardsender.store import outbox as queries
from cardsender.store.customers import insert_customer

TODAY = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 14, 0)
PACKAGE = Path(__file__).resolve().parents[2] / "cardsender"
LEGAL = sorted((source, target) for source, targets in OUTBOX_MOVES.items() for target in targets)
ILLEGAL = sorted(set(itertools.product(OutboxState, OutboxState)) - set(LEGAL))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Return a database with one customer and no cards."""
    with Store.open(database_url) as opened:
        with opened.begin() as conn:
            insert_customer(conn, {"id": "C1", "email": "c1@example.com"}, TODAY, NOW)
        yield opened


def add_row(store: Store, state: OutboxState, day: dt.date = TODAY) -> int:
    """Add a card in a state to the outbox; return its row id."""
    with store.begin() as conn:
        assert add_card(conn, 1, Card("C1", "birthday", day, "email", state), day, NOW)
        (row,) = [r.row for r in queries.list_rows(conn) if r.occasion_date == day]
    return row


def state_of(store: Store, row: int) -> OutboxState:
    """Return the state a row is in."""
    with store.begin() as conn:
        found = queries.get_row(conn, row)
    assert found is not None
    return found.state


def test_the_table_names_every_state_and_only_states() -> None:
    """Every state has a row of the table, and every target is a state."""
    assert set(OUTBOX_MOVES) == set(OutboxState)
    assert all(targets <= set(OutboxState) for targets in OUTBOX_MOVES.values())


@pytest.mark.parametrize("source", list(OutboxState))
def test_every_legal_move_moves_the_row(store: Store, source: OutboxState) -> None:
    """A row moves from a state to each state the table allows, and is then in that state."""
    for n, target in enumerate(sorted(OUTBOX_MOVES[source])):
        row = add_row(store, source, TODAY + dt.timedelta(days=n))
        with store.begin() as conn:
            assert queries.move_row(conn, row, (source,), target, NOW) is True
        assert state_of(store, row) is target


def test_a_move_from_another_state_leaves_the_row_alone(store: Store) -> None:
    """A legal move asked of a row that is not in its source state changes nothing and says so."""
    row = add_row(store, OutboxState.SENT)
    with store.begin() as conn:
        assert queries.move_row(conn, row, (OutboxState.PENDING,), OutboxState.SENDING, NOW) is False
    assert state_of(store, row) is OutboxState.SENT


def test_an_illegal_move_is_refused_and_the_row_stays(store: Store) -> None:
    """Moving a mailed card back to pending raises an error naming both states, and writes nothing."""
    row = add_row(store, OutboxState.MAILED)
    with pytest.raises(queries.IllegalMove) as refused, store.begin() as conn:
        queries.move_row(conn, row, (OutboxState.MAILED,), OutboxState.PENDING, NOW)
    assert str(refused.value) == "an outbox card cannot move from mailed to pending (from mailed: nowhere)"
    assert (refused.value.source, refused.value.target) == (OutboxState.MAILED, OutboxState.PENDING)
    assert state_of(store, row) is OutboxState.MAILED


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_every_move_the_table_leaves_out_is_refused(source: OutboxState, target: OutboxState) -> None:
    """Each pair of states the table does not list is refused before any statement is built."""
    with pytest.raises(queries.IllegalMove, match=rf"^an outbox card cannot move from {source} to {target} "):
        queries.moving((source,), target, NOW)


def test_an_illegal_move_among_several_sources_is_refused() -> None:
    """A move from several states is refused when any one of them may not go to the target."""
    with pytest.raises(queries.IllegalMove, match=r"^an outbox card cannot move from held to sent "):
        queries.moving((OutboxState.UNKNOWN, OutboxState.HELD), OutboxState.SENT, NOW)


def test_the_old_set_state_takes_words_and_is_checked(store: Store) -> None:
    """set_state accepts the stored words, moves through the table, and refuses what it refuses."""
    row = add_row(store, OutboxState.UNKNOWN)
    with store.begin() as conn:
        assert queries.set_state(conn, row, ("unknown",), NOW, state="sent", sent_at=NOW)
    assert state_of(store, row) is OutboxState.SENT
    refused = r"^an outbox card cannot move from sent to pending "
    with pytest.raises(queries.IllegalMove, match=refused), store.begin() as conn:
        queries.set_state(conn, row, ("sent",), NOW, state="pending")


# How each function that moves rows names its source states and its target: (sources, target) as the
# positions of its arguments, or None for a source that is always ``sending`` (the settling of a claim).
MOVERS: dict[str, tuple[int | None, int | str]] = {
    "moving": (0, 1),
    "move": (1, 2),
    "move_row": (2, 3),
    "set_state": (2, "state"),
    "finish": (None, "state"),
    "_settle": (None, "state"),
}
# Targets known only when the code runs, and the states they can be: the send cycle settles a claimed card
# in its delivery's outcome once sent, held and retry are handled, which leaves failed and unknown.
DYNAMIC_TARGETS = {"OutboxState(outcome.state)": {OutboxState.FAILED, OutboxState.UNKNOWN}}


def _states_in(node: ast.expr, names: dict[str, ast.expr]) -> set[OutboxState]:
    """Return the states an expression can be, read from its OutboxState members and quoted state words."""
    if isinstance(node, ast.Name) and node.id in names:
        return _states_in(names[node.id], names)
    if isinstance(node, ast.Name) and isinstance(getattr(vocabulary, node.id, None), frozenset):
        return {OutboxState(state) for state in getattr(vocabulary, node.id)}  # such as WAITING_STATES
    if ast.unparse(node) in DYNAMIC_TARGETS:
        return DYNAMIC_TARGETS[ast.unparse(node)]
    found: set[OutboxState] = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "OutboxState":
            found.add(OutboxState[part.attr])
        elif isinstance(part, ast.Constant) and isinstance(part.value, str) and part.value in set(OutboxState):
            found.add(OutboxState(part.value))
    return found


def _moves_in_code() -> tuple[set[tuple[OutboxState, OutboxState]], list[str]]:
    """Return the moves the package's code asks for, and the calls whose states cannot be read."""
    moves: set[tuple[OutboxState, OutboxState]] = set()
    unread: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            # A function's simple local names, such as ``pending = (OutboxState.PENDING,)``.
            names = {
                target.id: assign.value
                for assign in ast.walk(function)
                if isinstance(assign, ast.Assign)
                for target in assign.targets
                if isinstance(target, ast.Name)
            }
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
                if name not in MOVERS or function.name == name:
                    continue
                source_at, target_at = MOVERS[name]
                keywords = {k.arg: k.value for k in call.keywords}
                target_node = keywords.get(target_at) if isinstance(target_at, str) else call.args[target_at]
                if source_at is None:
                    sources = {OutboxState.SENDING}
                elif source_at < len(call.args):
                    sources = _states_in(call.args[source_at], names)
                else:
                    sources = set()
                targets = _states_in(target_node, names) if target_node is not None else set()
                if not sources or not targets:
                    # A state handed on from the function's own arguments is read where that function is called.
                    own = {a.arg for a in (*function.args.args, *function.args.kwonlyargs)}
                    if target_node is None:  # the state is in ``**values``
                        handed = any(k.arg is None for k in call.keywords)
                    else:
                        handed = any(isinstance(n, ast.Name) and n.id in own for n in ast.walk(target_node))
                    if not handed:
                        unread.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno}")
                    continue
                moves |= set(itertools.product(sources, targets))
    return moves, unread


def test_the_code_makes_exactly_the_moves_of_the_table() -> None:
    """Every move written in the code is in the table, and every move of the table is written in the code."""
    moves, unread = _moves_in_code()
    assert unread == []
    assert sorted(moves - set(LEGAL)) == []
    assert sorted(set(LEGAL) - moves) == []


def test_only_the_move_function_writes_a_state() -> None:
    """No statement outside the outbox's move sets a state, except the inserts that add a card."""
    writers = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for call in ast.walk(function):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "values"
                    and any(k.arg == "state" for k in call.keywords)
                ):
                    writers.add((str(path.relative_to(PACKAGE)), function.name))
    assert sorted(writers) == [
        ("planning/facts.py", "add_card"),
        ("store/outbox.py", "moving"),
        ("store/outbox.py", "record_touches"),
    ]
