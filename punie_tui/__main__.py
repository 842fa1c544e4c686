"""`python -m punie_tui` runs the command line, as the `punie-tui` script does."""

from punie_tui.cli import main

raise SystemExit(main())
