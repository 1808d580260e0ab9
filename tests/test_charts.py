import pandas as pd
import pytest

from riskmap.release.public import TYPE_GROUP_NAMES, build_release
from riskmap.settings import Settings
from riskmap.views.charts import DIMENSIONS, trend_chart, trend_table
from riskmap.views.i18n import label

K = 3


@pytest.fixture(scope="module")
def release(sample, places):
    """The public release table of the sample (shown columns plus people counts)."""
    return build_release(sample, places=places, settings=Settings(min_cell=K), key=b"k").table


def _inside(table: pd.DataFrame, freq: str) -> pd.Series:
    """Rows whose shown period lies within one chart period."""
    start, end = table["date"], table["date_end"]
    same = start.dt.to_period(freq) == end.dt.to_period(freq)
    return (start.notna() & end.notna() & same).astype(bool)


def test_trend_table_counts_each_type(sample):
    table = trend_table(sample, by="type", period="month", lang="en", min_cell=0)
    kid = table[table["category"] == "Kidnapping"]["incidents"].sum()
    assert kid == sample["incident_types"].str.split("|").map(lambda t: "kidnapping" in t).sum()
    assert set(table["period_start"].dt.month) == {11, 12, 1}
    assert table.attrs["left_out"] == 0  # recorded rows have a day or a month
    assert not table["suppressed"].any()  # min_cell=0: every number shown


def test_weeks_start_on_monday(sample):
    table = trend_table(sample, by="perpetrator", period="week", lang="es", min_cell=0)
    assert (table["period_start"].dt.day_of_week == 0).all()
    assert "Policía" in set(table["category"])
    assert table["incidents"].sum() == len(sample)


def test_small_cells_are_suppressed_in_chart_data(sample):
    # The second guard, on rows that are not k-anonymous (the staff view's).
    table = trend_table(sample, by="place", period="week", lang="en", min_cell=K)
    small = table["suppressed"]
    assert small.any()
    assert (table.loc[small, "shown"] == "<3").all()
    assert (table.loc[small, "height"] == 2).all()
    spec = trend_chart(sample, by="place", period="week", min_cell=K).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert all("incidents" not in r for r in rows)


@pytest.mark.parametrize("by", list(DIMENSIONS))
def test_release_rows_are_charted_only_in_periods_holding_their_whole_period(release, by):
    table = trend_table(release, by=by, period="month", lang="en", min_cell=K)
    inside = _inside(release, "M")
    assert 0 < inside.sum() < len(release)  # quarter-, year- and undated rows are left out
    assert table.attrs["left_out"] == int((~inside).sum())
    # Every charted row is in the bar of the month that holds its whole shown period.
    charted = release[inside]
    assert set(table["period_start"]) == set(charted["date"].dt.to_period("M").dt.start_time)
    if by != "type":  # one category per row: the bars add up to the charted rows
        assert table["incidents"].sum() == len(charted)
    # A bar is a union of whole release classes: never between 1 and k - 1.
    assert not table["suppressed"].any()
    assert (table["incidents"] >= K).all()


def test_type_groups_are_categories_too(release):
    table = trend_table(release, by="type", period="month", lang="en", min_cell=K)
    charted = release[_inside(release, "M")]
    shown = charted["incident_types"].dropna().str.split("|").explode()
    groups = [g for g in TYPE_GROUP_NAMES if g in set(shown)]
    assert groups  # the sample's release generalises some types to their groups
    for group in groups:
        bars = table[table["category"] == label(group, "en")]
        assert bars["incidents"].sum() == int((shown == group).sum()), group
    # Groups that no charted row shows get no bar.
    for group in set(TYPE_GROUP_NAMES) - set(groups):
        assert label(group, "en") not in set(table["category"])


def test_the_chart_says_how_many_rows_it_leaves_out(release):
    spec = trend_chart(release, by="place", period="month", lang="en", min_cell=K).to_dict()
    left_out = int((~_inside(release, "M")).sum())
    assert any(
        f"{left_out} incidents are published only by" in s for s in spec["title"]["subtitle"]
    )
    rows = next(iter(spec["datasets"].values()))
    assert sum(r["height"] for r in rows) == len(release) - left_out
    es = trend_chart(release, by="place", period="month", lang="es", min_cell=K).to_dict()
    assert any(f"{left_out} incidentes se publican" in s for s in es["title"]["subtitle"])


def test_chart_title_is_translated(sample):
    spec = trend_chart(sample, by="type", period="month", lang="es", min_cell=K).to_dict()
    assert spec["title"]["text"] == "Incidentes por mes según tipo"
    assert "cuenta una vez en cada tipo" in spec["title"]["subtitle"][0]
    assert "menos de 3" in spec["title"]["subtitle"][1]


def test_bars_are_not_stacked(sample):
    spec = trend_chart(sample, by="place", period="week", min_cell=K).to_dict()
    assert spec["encoding"]["y"]["stack"] is None
    assert spec["encoding"]["xOffset"]["field"] == "category"


def test_release_weeks_nest_in_months(places, random_store):
    rows = build_release(
        random_store(places, n=3000, seed=41), places=places, settings=Settings(), key=b"k"
    ).table
    table = trend_table(rows, by="type", period="week", lang="en", min_cell=K)
    assert len(table)
    # Bars start on the release's weeks (days 1, 8, 15, 22), never straddling two months.
    assert set(table["period_start"].dt.day) <= {1, 8, 15, 22}
    weekly = rows["date_precision"].isin(["day", "week"]).sum()
    assert table.attrs["left_out"] == len(rows) - weekly
    assert ((table["incidents"] == 0) | (table["incidents"] >= K)).all()
