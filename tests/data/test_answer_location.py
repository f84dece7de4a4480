from xltt_plugin.data.answer_location import first_usable_answer, locate_answer
from xltt_plugin.data.squad_loading import SquadAnswer

CONTEXT = "The Eagle landed. Later the Eagle took off, and the Eagle docked."


def test_locate_exact_and_outer_whitespace() -> None:
    location = locate_answer(CONTEXT, "Eagle", 4)
    assert location is not None and (location.start, location.end, location.repaired) == (
        4,
        9,
        False,
    )
    # " Eagle " starting at the space before: stripped text at the stripped position.
    location = locate_answer(CONTEXT, " Eagle ", 3)
    assert location is not None and (location.start, location.text, location.repaired) == (
        4,
        "Eagle",
        False,
    )


def test_locate_repairs_to_nearest_occurrence() -> None:
    second = CONTEXT.index("Eagle", 10)
    third = CONTEXT.index("Eagle", second + 1)
    location = locate_answer(CONTEXT, "Eagle", second + 3)
    assert location is not None and (location.start, location.repaired) == (second, True)
    location = locate_answer(CONTEXT, "Eagle", third - 2)
    assert location is not None and location.start == third
    # Too far from every occurrence for the allowed distance.
    assert locate_answer("x" * 300 + " Eagle", "Eagle", 0, max_distance=100) is None
    assert locate_answer("x" * 300 + " Eagle", "Eagle", 0, max_distance=None) is not None


def test_locate_without_start_takes_first_occurrence() -> None:
    location = locate_answer(CONTEXT, "Eagle", None, max_distance=10)
    assert location is not None and (location.start, location.repaired) == (4, True)


def test_locate_gives_up() -> None:
    assert locate_answer(CONTEXT, "Falcon", 4) is None
    assert locate_answer(CONTEXT, "   ", 4) is None


def test_first_usable_answer_skips_broken_ones() -> None:
    answers = [SquadAnswer("Falcon", 0), SquadAnswer("landed", 10)]
    location = first_usable_answer(CONTEXT, answers)
    assert location is not None and CONTEXT[location.start : location.end] == "landed"
    assert first_usable_answer(CONTEXT, []) is None
