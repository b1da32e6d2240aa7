"""The kubectl tier: the real kubectl binary against a served sandbox, compared with the guide's outputs."""
