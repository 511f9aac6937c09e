"""Photos of a visit (入户照片): resumable uploads, their storage, their state on review."""
