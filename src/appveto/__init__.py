"""appveto: decide, enforce and monitor bans of risky mobile apps on staff devices."""

__version__ = "0.1.0"
