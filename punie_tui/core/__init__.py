"""All of punie-tui's logic, importable and testable without textual or rich."""
