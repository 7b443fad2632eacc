"""Browser journeys: each page driven as the person who uses it."""
