"""Container images: references, an OCI registry client, a digest cache and the multi-arch check."""
