"""PDF rendering of printable pages."""
