"""The engine: word alignment and entity projection, pure computation over core types.

Nothing here touches the database, files of the user's project, or the app; services feed it core types and
store what it returns. Aligners and projectors are chosen by name from registries (``xner.engine.align`` and
``xner.engine.project``), each a small class whose dataclass fields are its named options.
"""
