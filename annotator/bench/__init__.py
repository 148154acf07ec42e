"""bench v1: ``python -m annotator.bench`` measures import, annotation, export and "Next" against
real servers on SQLite and PostgreSQL (see docs/benchmarks.md)."""
