# Imported by paths.py; not a program of its own.
VALUE = 42
