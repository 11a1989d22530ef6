"""The offline core: catalogue, engine and sources. Needs no server and no database."""
