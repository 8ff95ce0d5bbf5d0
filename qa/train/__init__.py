"""Offline reader training: the data (windows, synthetic unanswerables) and the loop.
The runtime never imports this."""
