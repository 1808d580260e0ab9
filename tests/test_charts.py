from riskmap.views.charts import trend_chart, trend_table


def test_trend_table_counts_each_type(sample):
    table = trend_table(sample, by="type", period="month", lang="en")
    kid = table[table["category"] == "Kidnapping"]["incidents"].sum()
    assert kid == sample["incident_types"].str.split("|").map(lambda t: "kidnapping" in t).sum()
    assert set(table["period_start"].dt.month) == {11, 12, 1}


def test_weeks_start_on_monday(sample):
    table = trend_table(sample, by="perpetrator", period="week", lang="es")
    assert (table["period_start"].dt.day_of_week == 0).all()
    assert "Policía" in set(table["category"])
    assert table["incidents"].sum() == len(sample)


def test_small_cells_are_suppressed_in_chart_data(sample):
    table = trend_table(sample, by="place", period="week", lang="en", min_cell=3)
    small = table["suppressed"]
    assert small.any()
    assert (table.loc[small, "shown"] == "<3").all()
    assert (table.loc[small, "height"] == 2).all()
    spec = trend_chart(sample, by="place", period="week", min_cell=3).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert all("incidents" not in r for r in rows)


def test_chart_title_is_translated(sample):
    spec = trend_chart(sample, by="type", period="month", lang="es", min_cell=3).to_dict()
    assert spec["title"]["text"] == "Incidentes por mes según tipo"
    assert "cuenta una vez en cada tipo" in spec["title"]["subtitle"][0]
    assert "menos de 3" in spec["title"]["subtitle"][1]


def test_bars_are_not_stacked(sample):
    spec = trend_chart(sample, by="place", period="week", min_cell=3).to_dict()
    assert spec["encoding"]["y"]["stack"] is None
    assert spec["encoding"]["xOffset"]["field"] == "category"
