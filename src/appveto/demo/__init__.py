"""Sample material built from nothing: APKs for ``appveto demo`` (and the tests)."""
