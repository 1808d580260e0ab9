"""Staff work on the data, with a trail: reviews (:mod:`.review`), place locations (:mod:`.places`).

:mod:`.review` takes incidents from a draft to published (or rejected) with a second person's
approval; :mod:`.places` keeps the staff-verified locations of gazetteer places.
"""
