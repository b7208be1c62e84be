"""The typed TOML config, its validation and the commented template."""
