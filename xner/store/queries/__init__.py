"""The store's queries, one module per concern; services build their use cases on them.

Shape: each module holds the SQL of one concern:

- :mod:`.corpora`: corpora by name, the condition of a visible one, the sizes of their contents;
- :mod:`.sentences`: sentences, their gold entities and the tokens of pairs;
- :mod:`.pairs`: the sentence pairs of a corpus a page at a time, and the stored links of alignment runs;
- :mod:`.runs`: alignment and projection runs: found, listed with their sizes, written;
- :mod:`.projections`: the spans projection runs proposed;
- :mod:`.review`: review states, and the one definition of each group of review statuses.

A query function takes the session first, then ids and plain values, and returns plain values, core types
(:mod:`xner.types`) or rows of plain columns. Conditions shared by several queries are functions returning SQL
expressions. The store imports only the core (types, errors): a reader that parses a file format (the sentence
pairs with their Pharaoh links, :mod:`xner.services.pairs`) stays with the services. Paging lives in
:mod:`xner.store.paging`, span JSON in :mod:`xner.store.columns`; corpora are found by name through
:mod:`xner.services.corpora`, which applies the rule that hides unfinished imports (:mod:`xner.store.staging`).
"""
