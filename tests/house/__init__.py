"""The house itself: the walls between modules, and the suite's own checks."""
