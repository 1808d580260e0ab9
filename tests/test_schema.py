import pandas as pd
import pytest

from riskmap.errors import SchemaError
from riskmap.schema import (
    COLUMNS,
    INCIDENT_TYPES,
    check_values,
    conform,
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
