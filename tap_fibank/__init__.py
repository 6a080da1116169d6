"""tap-fibank: a Singer tap for the Fibank (Bulgaria) web bank."""
