"""The REST API (FastAPI): thin routes over the same services the pages call. Build it with ``create_app``."""
