"""Renderers of a selection: the map, charts, dashboard panels, About, exports, and ES/EN text.

Modules: :mod:`~riskmap.views.maps`, :mod:`~riskmap.views.charts`,
:mod:`~riskmap.views.dashboard`, :mod:`~riskmap.views.about`, :mod:`~riskmap.views.export`
(with :mod:`~riskmap.views.columns`: HXL tags, Spanish headers, the data dictionary; and
:mod:`~riskmap.views.package`: the Frictionless data package), :mod:`~riskmap.views.i18n`.
"""
