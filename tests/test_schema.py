import datetime as dt
import random

import pandas as pd
import pytest

from riskmap.errors import SchemaError
from riskmap.schema import (
    COLUMNS,
    INCIDENT_TYPES,
    _to_bool,
    check_values,
    conform,
    conform_columns,
    empty_frame,
    has_type,
    join_types,
    split_types,
    validate,
)


def test_split_and_join_types_are_canonical():
    assert split_types("sexual_assault|kidnapping| extortion") == [
        "kidnapping",
        "extortion",
        "sexual_assault",
    ]
    assert join_types(["extortion", "kidnapping", "kidnapping"]) == "kidnapping|extortion"
    assert split_types(None) == []
    assert split_types(float("nan")) == []


def test_empty_frame_has_every_column_with_its_dtype():
    frame = empty_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert str(frame["victims"].dtype) == "Int64"
    assert str(frame["date"].dtype) == "datetime64[ns]"


def test_conform_adds_missing_optional_columns_and_drops_extras():
    frame = pd.DataFrame(
        {"incident_id": ["a"], "date": ["2019-12-01"], "incident_types": ["threat"], "x": [1]}
    )
    out = conform(frame)
    assert list(out.columns) == list(COLUMNS)
    assert out.loc[0, "date"] == pd.Timestamp("2019-12-01")
    assert pd.isna(out.loc[0, "victims"])


def test_conform_requires_the_required_columns():
    with pytest.raises(SchemaError, match="incident_types"):
        conform(pd.DataFrame({"incident_id": ["a"], "date": ["2019-12-01"]}))


def test_check_values_names_row_and_column():
    frame = conform(
        pd.DataFrame(
            {
                "incident_id": ["a", "b"],
                "date": ["2019-12-01", "2019-12-02"],
                "incident_types": ["kidnapping", "kidnapping|abduction"],
                "perpetrator": ["police", "aliens"],
            }
        )
    )
    problems = check_values(frame)
    assert any("row 1, column incident_types" in p and "'abduction'" in p for p in problems)
    assert any("row 1, column perpetrator" in p for p in problems)
    assert not any(p.startswith("row 0") for p in problems)


def test_validate_rejects_more_children_than_victims():
    frame = pd.DataFrame(
        {
            "incident_id": ["a"],
            "date": ["2019-12-01"],
            "incident_types": ["kidnapping"],
            "victims": [1],
            "children": [2],
        }
    )
    with pytest.raises(SchemaError, match="more children than victims"):
        validate(frame)


def test_has_type_matches_whole_types_only():
    frame = pd.DataFrame(
        {"incident_types": ["attempted_kidnapping", "kidnapping|extortion", "express_kidnapping"]}
    )
    assert has_type(frame, ["kidnapping"]).tolist() == [False, True, False]
    assert has_type(frame, ["extortion", "express_kidnapping"]).tolist() == [False, True, True]
    assert has_type(frame, []).tolist() == [False, False, False]


def test_every_type_is_lowercase_identifier():
    assert all(t.isidentifier() and t == t.lower() for t in INCIDENT_TYPES)


def _one_column_frames(seed, pool, odd_extra, column):
    """Yield 50 minimal tables whose ``column`` holds random cells of ``pool``, with the cells.

    Odd seeds add ``odd_extra`` to the pool.
    """
    rng = random.Random(seed)
    pool = pool + (odd_extra if seed % 2 else [])
    for _ in range(50):
        cells = rng.choices(pool, k=rng.randint(0, 30))
        frame = pd.DataFrame(
            {"incident_id": "x", "date": "2020-01-01", "incident_types": "robbery"},
            index=range(len(cells)),
        )
        frame[column] = pd.Series(cells, index=frame.index, dtype=object)
        yield frame, cells


@pytest.mark.parametrize("seed", range(4))
def test_conform_reads_boolean_cells_as_one_cell_at_a_time_would(seed):
    # conform reads each distinct cell of a column of text, booleans and blanks once; the
    # result (and the first bad cell named) is that of reading every cell on its own.
    pool = [True, False, None, "true", "False", " sí ", "0", "", "n", "Y", "yes", "quizá"]
    extra = [1, 0.0, float("nan"), pd.NA]
    for frame, cells in _one_column_frames(seed, pool, extra, "synthetic"):
        try:
            expected = pd.Series(
                [_to_bool(c) for c in cells], index=frame.index, dtype=object
            ).astype("boolean")
        except ValueError as e:
            with pytest.raises(SchemaError, match=f"column 'synthetic'.*{e}"):
                conform(frame)
            continue
        got = conform(frame)["synthetic"]
        pd.testing.assert_series_equal(got, expected, check_names=False)
        assert conform(conform(frame)).equals(conform(frame))


def test_conform_columns_gives_what_conform_gives_of_the_same_cells():
    frame = pd.DataFrame(
        {
            "incident_id": ["a", "b", None],
            "date": [dt.date(2020, 1, 2), dt.date(2020, 3, 4), dt.date(2021, 5, 6)],
            "incident_types": ["robbery", "kidnapping|threat", "other"],
            "lat": [25.8, None, 26.1],
            "victims": [1, None, 3],
            "synthetic": [True, False, None],
            "_pos": [0, 1, 2],
        },
        dtype=object,
    )
    cells = {c: frame[c].to_numpy(dtype=object) for c in frame.columns}
    got = conform_columns(cells, index=pd.RangeIndex(3))
    pd.testing.assert_frame_equal(got, conform(frame), check_exact=True)
    with pytest.raises(SchemaError, match="lacks required column"):
        conform_columns({"incident_id": cells["incident_id"]}, index=pd.RangeIndex(3))


@pytest.mark.parametrize("seed", range(4))
def test_conform_reads_count_cells_as_astype_reads_them(seed):
    # A column of whole numbers and blanks becomes Int64 without pandas' detour; any other
    # column takes that detour: the result is the same either way.
    pool = [0, 1, 7, 10_000, -3, None]
    extra = [2.0, float("nan"), pd.NA, True]
    for frame, cells in _one_column_frames(seed, pool, extra, "victims"):
        expected = pd.Series(cells, index=frame.index, dtype=object).astype("Int64")
        pd.testing.assert_series_equal(conform(frame)["victims"], expected, check_names=False)
