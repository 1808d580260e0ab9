"""Places and the geocoder.

The sourced gazetteer (:mod:`~riskmap.geo.gazetteer`) and the geocoder that matches descriptions
against it (:mod:`~riskmap.geo.geocoder`); the matching helpers are private.
"""
