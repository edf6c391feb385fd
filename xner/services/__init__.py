"""Use cases shared by the CLI and the app: each function opens what it needs from a Store and returns data."""
