"""Renderers of a selection: the map, charts, dashboard panels, About, exports, and ES/EN text.

Modules: :mod:`~riskmap.views.maps`, :mod:`~riskmap.views.charts`,
:mod:`~riskmap.views.dashboard`, :mod:`~riskmap.views.about`, :mod:`~riskmap.views.export`,
:mod:`~riskmap.views.i18n`.
"""
