"""Statistics of incidents.

Site rankings and Gi* (:mod:`~riskmap.analysis.hotspots`), the hex grid
(:mod:`~riskmap.analysis.hexgrid`), exposure rates (:mod:`~riskmap.analysis.exposure`) and
headline figures (:mod:`~riskmap.analysis.metrics`).
"""
