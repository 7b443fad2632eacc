"""Planning from the database, the dispatch board, and who may change which seat."""
