"""Supply chain: cosign signatures, SBOMs, the signed test record, and verification."""
