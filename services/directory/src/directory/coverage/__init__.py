"""The coverage map: which places of Japan would get a capable, open organisation for a kind of need."""
