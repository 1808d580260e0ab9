"""What leaves the tool, and to whom.

The public view and its privacy rules (:mod:`~riskmap.release.privacy`), and who may see the
restricted view (:mod:`~riskmap.release.access`).
"""
