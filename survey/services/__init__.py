"""Domain operations. Services flush; the request or CLI boundary commits."""
