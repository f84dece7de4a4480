from benchmarks.ci_time_share import parse_durations, share

REPORT = """\
============================= slowest durations ==============================
12.50s call     tests/test_end_to_end.py::test_train
2.00s setup    tests/a/test_x.py::test_one[p1]
0.50s call     tests/a/test_x.py::test_one[p1]
1.00s call     tests/a/test_x.py::test_one_more
4.00s teardown tests/a/test_y.py::test_two

(3 durations < 0.005s hidden.  Use -vv to show these durations.)
925 passed, 4 skipped in 30.00s
"""


def test_rows_are_the_duration_lines_only() -> None:
    rows = parse_durations(REPORT.splitlines())
    assert [node for node, _ in rows] == [
        "tests/test_end_to_end.py::test_train",
        "tests/a/test_x.py::test_one[p1]",
        "tests/a/test_x.py::test_one[p1]",
        "tests/a/test_x.py::test_one_more",
        "tests/a/test_y.py::test_two",
    ]


def test_a_test_name_is_not_a_prefix_of_a_longer_name() -> None:
    rows = parse_durations(REPORT.splitlines())
    # test_one: setup 2.00 + call 0.50 of its one parametrisation; test_one_more is another test.
    result = share(rows, ["tests/a/test_x.py::test_one"])
    assert result["selected_s"] == 2.5
    assert result["total_s"] == 20.0
    assert result["share"] == 0.125
    # A file selects all its tests; two selectors add up without counting a row twice.
    both = share(rows, ["tests/a/test_x.py", "tests/a/test_x.py::test_one", "tests/a/test_y.py"])
    assert (both["selected_s"], both["selected_rows"]) == (7.5, 4)
