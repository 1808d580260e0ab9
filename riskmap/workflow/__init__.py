"""Staff work on the data, with a trail: staff-verified place locations (:mod:`.places`)."""
