"""What leaves the tool, and to whom.

The audience chosen by a front end (:mod:`~riskmap.release.audience`), the k-anonymous public
release every public output is derived from (:mod:`~riskmap.release.public`, kept beside the store
by :mod:`~riskmap.release.cache`), its privacy
primitives (:mod:`~riskmap.release.privacy`), and who may see the restricted view
(:mod:`~riskmap.release.access`).
"""
