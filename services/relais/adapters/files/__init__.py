"""The stores a file reference may point to (issue 18): S3-compatible object storage
(``s3.py``), a local directory store (``local_store.py``), small inline files (``inline.py``),
behind one ``CfaFileOpener`` that checks the CFA's grants first (``opener.py``). Every byte read is
checked on the fly (``verified.py``): size, SHA-256, type by its magic bytes."""
