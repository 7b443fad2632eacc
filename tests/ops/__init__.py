"""Running it: gunicorn on PostgreSQL, process faults, backups, retention, migrations, the command line."""
