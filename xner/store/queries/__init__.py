"""The store's queries, one module per concern; services build their use cases on them.

Shape: each module holds the SQL of one concern (:mod:`.review`: review states and their status groups;
:mod:`.projections`: the projected spans of a run). A query function takes the session first, then ids and plain
values, and returns plain values, rows of plain columns or core types (:mod:`xner.types`), not ORM objects.
Conditions shared by several queries are module-level functions returning SQL expressions. Paging lives in
:mod:`xner.store.paging`, span JSON in :mod:`xner.store.columns`.
"""
