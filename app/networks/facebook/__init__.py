"""facebook network: OAuth registration, live fetcher and/or archive importer."""
