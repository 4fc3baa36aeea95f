"""Audio codecs: decoding, format checks, WAV encoding and live capture."""
