"""The command line, ``flask --app dispatch …`` (docs/CONTRACTS.md §3), by group.

Each module holds the click groups of one area and only parses, calls services (or jobs) and
prints; dispatch.commands registers them on the app. Nothing else imports this package.
"""
