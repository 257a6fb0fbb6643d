"""`python -m sfnecs.cli`: the `sfnecs` command."""

from sfnecs.cli import main

raise SystemExit(main())
