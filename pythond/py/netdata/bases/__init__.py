"""Base classes and helpers of Netdata python.d modules (bases.*)."""
