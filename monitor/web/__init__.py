"""`monitor web`: a read-only console over the daemon's state (search, actors, stories, feeds, mail)."""
