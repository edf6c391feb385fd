"""The store's queries, one module per concern; services build their use cases on them.

Shape: each module holds the SQL of one concern:

- :mod:`.corpora`: corpora by name, the condition of a visible one, the sizes of their contents;
- :mod:`.sentences`: sentences, their gold entities, their splits in import order and the tokens of pairs;
- :mod:`.pairs`: the sentence pairs of a corpus a page at a time, and the stored links of alignment runs;
- :mod:`.runs`: alignment and projection runs: found, listed with their sizes, written;
- :mod:`.alignments`: the rows of one alignment run: whether they carry directional links, and those links;
- :mod:`.imports`: the sentences, entities and pairs an import inserts a batch at a time, the positions and splits
  taken, the pairs' token counts an alignment file is checked against;
- :mod:`.exports`: what an export reads, page by page, and the reviewers it can filter by;
- :mod:`.projections`: the spans projection runs proposed;
- :mod:`.spotchecks`: spot checks, their sampled spans and judgments;
- :mod:`.deletions`: what deleting a corpus or a run removes, its review use, hiding it, the deletion log;
- :mod:`.review`: review states, and the one definition of each group of review statuses;
- :mod:`.review_states`: review state and event rows (an item's state and history, queueing suggestions, a
  decision's conditional writes);
- :mod:`.review_queue`: the review queue's filters and reads (the next item, how many remain, a run's rows);
- :mod:`.review_items`: what a review item is made of (its pair, suggestions, alignment links, the reviewers'
  manual alignment run) and finding one (by number, split and position, or a word);
- :mod:`.leases`: who has which review item open, the queues' settings and the reviewers' saved choices;
- :mod:`.training`: training runs (found by the hash of their configuration), their metrics, and experiments with
  the runs of their points.

A query function takes the session first, then ids and plain values, and returns plain values, core types
(:mod:`xner.types`) or rows of plain columns. Conditions shared by several queries are functions returning SQL
expressions. The store imports only the core (types, errors): a reader that parses a file format (the sentence
pairs with their Pharaoh links, :mod:`xner.services.pairs`) stays with the services. Paging lives in
:mod:`xner.store.paging`, span JSON in :mod:`xner.store.columns`; corpora are found by name through
:mod:`xner.services.corpora`, which applies the rule that hides unfinished imports (:mod:`xner.store.staging`).
"""
