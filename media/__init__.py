"""Media: the object store port and adapters (MinIO/S3, local folder), type checks."""
