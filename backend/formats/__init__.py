"""Pure format code: FHIR bundles, wearable importers, document pages. No I/O of its own."""
