"""The demo workspace shipped with punie-tui (see scripts/make_demo_data.py)."""
