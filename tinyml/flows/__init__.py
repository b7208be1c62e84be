"""The commands' bodies: what `tinyml <command>` runs, below the thin CLI."""
