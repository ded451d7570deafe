"""Framework-free building blocks: settings, errors, envelopes, logging."""
