"""The store's queries, one module per concern; services build their use cases on them.

Shape: each module holds the SQL of one concern:

- :mod:`.sentences`: sentences and their gold entities;
- :mod:`.pairs`: the sentence pairs of a parallel corpus (paged) and its alignment runs;
- :mod:`.projections`: the spans projection runs proposed;
- :mod:`.review`: review states, and the one definition of each group of review statuses.

A query function takes the session first, then ids, plain values or a row the service already looked up (a
corpus), and returns plain values, core types (:mod:`xner.types`) or small frozen records; only look-ups by id
(``get_alignment_run``) return the row, for the service's own use. Services hand none of these rows to pages or
commands. Conditions shared by several queries are functions returning SQL expressions. Paging lives in
:mod:`xner.store.paging`, span JSON in :mod:`xner.store.columns`; corpora are found by name in
:mod:`xner.services.corpora`, with the rule that hides unfinished imports (:mod:`xner.store.staging`).
"""
