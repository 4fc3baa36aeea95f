"""Moved: the record fakes are in ``tests.fakes.records``, beside the other ports' fakes. Import from there."""

from tests.fakes.records import fake_record_store

__all__ = ["fake_record_store"]
