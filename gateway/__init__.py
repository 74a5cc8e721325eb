"""The application: record store, search index, harvest runner, Flask app and CLI."""
