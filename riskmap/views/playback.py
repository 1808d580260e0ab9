"""Time playback: the map, the counts and the legend frame by frame, over months or weeks.

An advocate shows how the danger moved over the months (kepler.gl's time playback is what users
of map tools ask for: a speed, a cumulative mode, a time window). A frame is a date range; the
page applies it as it applies any period, through the same selection, so the map, the headline
counts and the title box agree at every frame, and a frame's counts are those of the same dates
chosen with the period filter (a month frame is the month period ``"YYYY-MM"``).

Frames are months, or weeks when the release is that fine (most of its dated rows shown by day or
week). A release row stands for its shown period: a row known by quarter is in every frame that
overlaps its quarter, as it is in every month the filter selects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from riskmap.views.i18n import t
from riskmap.views.viewstate import DateRange, ViewState, month_periods, period_label

#: How frames accumulate: each frame alone (with its window), or everything up to it.
MODES: tuple[str, ...] = ("window", "cumulative")
#: Seconds a frame stays on screen, slowest first.
SPEEDS: tuple[float, ...] = (3.0, 2.0, 1.0, 0.5)
#: Frames a window may span.
WINDOWS: tuple[int, ...] = (1, 2, 3, 6)
#: Share of dated release rows shown by day or week above which the frames are weeks.
WEEKLY_SHARE = 0.5


@dataclass(frozen=True)
class Frame:
    """One frame: a month (``"2019-11"``) or a week (starting on a Monday)."""

    key: str
    start: dt.date
    end: dt.date


def frame_unit(table: pd.DataFrame) -> str:
    """Return ``"week"`` when the release is that fine (see :data:`WEEKLY_SHARE`), else month."""
    dated = table.loc[pd.to_datetime(table["date"]).notna(), "date_precision"].astype("string")
    if dated.empty:
        return "month"
    fine = dated.isin(["day", "week"]).to_numpy(dtype=bool, na_value=False).mean()
    return "week" if fine > WEEKLY_SHARE else "month"


def frames(bounds: tuple[dt.date, dt.date] | None, *, unit: str = "month") -> list[Frame]:
    """Return the frames from the data's first to its last day, oldest first."""
    if bounds is None:
        return []
    if unit == "month":
        out = []
        for key in reversed(month_periods(bounds)):
            year, month = int(key[:4]), int(key[5:])
            first = dt.date(year, month, 1)
            last = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
            out.append(Frame(key, first, last))
        return out
    if unit != "week":
        msg = f"unknown frame unit {unit!r}; choose month or week"
        raise ValueError(msg)
    monday = bounds[0] - dt.timedelta(days=bounds[0].weekday())
    weeks = []
    while monday <= bounds[1]:
        weeks.append(Frame(monday.isoformat(), monday, monday + dt.timedelta(days=6)))
        monday += dt.timedelta(days=7)
    return weeks


def frame_label(frame: Frame, *, lang: str) -> str:
    """Return a frame's name: "Noviembre 2019", or "Week of 2019-11-04"."""
    if len(frame.key) == 7:
        return period_label(frame.key, lang)
    return t("play_week", lang, day=frame.start.isoformat())


def frame_view(
    view: ViewState,
    all_frames: list[Frame],
    index: int,
    *,
    mode: str = "window",
    window: int = 1,
) -> tuple[ViewState, DateRange]:
    """Return the view and the dates of frame ``index``.

    Parameters
    ----------
    view
        The page's view: its filters apply to every frame; its period is replaced.
    all_frames
        :func:`frames`.
    index
        The frame shown (clamped to the frames).
    mode
        ``"window"``: the frame and the ``window - 1`` frames before it; ``"cumulative"``:
        everything from the first frame up to this one.
    window
        Frames in the window (window mode).

    Raises
    ------
    ValueError
        If ``mode`` is not one of :data:`MODES`, or there is no frame.
    """
    if mode not in MODES:
        msg = f"unknown playback mode {mode!r}; choose one of {', '.join(MODES)}"
        raise ValueError(msg)
    if not all_frames:
        msg = "no frame to show: the data have no dated incident"
        raise ValueError(msg)
    i = min(max(int(index), 0), len(all_frames) - 1)
    first = 0 if mode == "cumulative" else max(i - max(int(window), 1) + 1, 0)
    start, end = all_frames[first].start, all_frames[i].end
    if first == i and len(all_frames[i].key) == 7:
        # One month: exactly the month period a person can choose.
        shown = view.with_(
            period=all_frames[i].key, filters=view.filters.with_(start=None, end=None)
        )
    else:
        shown = view.with_(period="custom", filters=view.filters.with_(start=start, end=end))
    return shown, DateRange(start, end)
