"""The hub: a FastAPI service that collects edge uploads and results documents and serves the report.

Imported only by ``vehicle-ds hub``; needs the ``hub`` extra (FastAPI, uvicorn, SQLAlchemy, PyJWT)."""
