"""Pure text pipeline: article text -> passages, cited outlets, claims and label suggestions.

Nothing here imports Flask, SQLAlchemy or the rest of the app; every function works on plain
strings and returns plain (frozen) data, so it can be tested and benchmarked on its own.
"""
