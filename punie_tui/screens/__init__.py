"""Screens: one module per screen; they display core results and dispatch user actions."""
