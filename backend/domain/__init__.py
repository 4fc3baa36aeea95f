"""Pure domain code: models, errors and clinical rules. Imports nothing else of the project."""
