"""Wearable vendors' APIs: the Ultrahuman partner API."""
